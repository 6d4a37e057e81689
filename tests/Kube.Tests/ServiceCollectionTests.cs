using Microsoft.Extensions.DependencyInjection;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube.Tests;

public sealed class ServiceCollectionTests
{
    [Fact]
    public async Task AddKubeApiClient_wires_client_resource_api_and_event_recorder()
    {
        await using var server = await TestApiServer.StartAsync(ctx => TestApiServer.WriteJsonAsync(ctx, 200,
            """{"kind":"APIGroup","name":"resource.k8s.io","versions":[{"groupVersion":"resource.k8s.io/v1beta2","version":"v1beta2"}]}"""));
        var services = new ServiceCollection().AddLogging().AddKubeApiClient(server.Url.ToString());
        await using var provider = services.BuildServiceProvider();

        var api = provider.GetRequiredService<IResourceApi>();

        Assert.IsType<KubeApiClient>(provider.GetRequiredService<IKubeApiClient>());
        Assert.IsType<KubeEventRecorder>(provider.GetRequiredService<IEventRecorder>());
        Assert.Same(provider.GetRequiredService<ResourceApi>(), api);
        Assert.Equal(ResourceApiVersion.V1Beta2, await api.NegotiateAsync(CancellationToken.None));
    }
}
