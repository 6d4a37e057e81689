using SecureDra.Kube.Client;
using SecureDra.Kube.Events;

namespace SecureDra.Controller.Hosting;

/// <summary>The one place the controller and <c>securedra audit</c> construct their Kubernetes client and event recorder.</summary>
public static class KubeClientFactory
{
    /// <summary>
    /// A client for <paramref name="kubeconfigPath"/> (null: in-cluster service account) and an event recorder on it.
    /// </summary>
    /// <exception cref="NotSupportedException">Until the Kubernetes client is wired in.</exception>
    public static (IKubeApiClient Client, IEventRecorder Events) Create(string? kubeconfigPath) =>
        // TODO(merge): return (SecureDra.Kube.Client.KubeApiClientFactory.Create(kubeconfigPath), new <Kube helper's
        // IEventRecorder implementation>(client, component: "securedra-controller", ...)). The Kube REST client is
        // written in parallel; this branch only has the IKubeApiClient / IEventRecorder contracts.
        throw new NotSupportedException(
            $"the Kubernetes client is not wired into this build (kubeconfig {kubeconfigPath ?? "in-cluster"}); `securedra audit --manifests DIR` works offline and `securedra controller --audit-interval 0` runs the webhook alone");
}
