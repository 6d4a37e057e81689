using System.Net;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

/// <summary>Server-side dry run (dryRun=All): every check and answer of the real write, and nothing stored, counted or watched.</summary>
public class DryRunTests
{
    private const string Classes = "/apis/resource.k8s.io/v1/deviceclasses";
    private const string Claims = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims";

    [Fact]
    public async Task Create_of_an_existing_object_is_already_exists_and_of_a_new_one_stores_nothing()
    {
        await using var t = await TestServer.StartAsync("1.34");
        await t.CreateAsync(Classes, """{"metadata":{"name":"gpu.nvidia.com"},"spec":{}}""");
        var before = t.Server.Store.ResourceVersion;

        var (existing, status) = await t.PostAsync(Classes + "?dryRun=All", JsonNode.Parse("""{"metadata":{"name":"gpu.nvidia.com"},"spec":{}}""")!);
        Assert.Equal(HttpStatusCode.Conflict, existing);
        Assert.Equal("AlreadyExists", status["reason"]!.GetValue<string>());

        var (created, body) = await t.PostAsync(Classes + "?dryRun=All", JsonNode.Parse("""{"metadata":{"name":"other"},"spec":{}}""")!);
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("other", body["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync(Classes + "/other")).Status);

        var (missingNs, _) = await t.PostAsync("/apis/resource.k8s.io/v1/namespaces/nowhere/resourceclaims?dryRun=All", Objects.Claim("v1", "c"));
        Assert.Equal(HttpStatusCode.NotFound, missingNs);
        var (invalid, _) = await t.PostAsync(Classes + "?dryRun=All", JsonNode.Parse("""{"metadata":{"name":"Not_A_Name"},"spec":{}}""")!);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid);
        Assert.Equal(before, t.Server.Store.ResourceVersion);
    }

    [Fact]
    public async Task Update_patch_and_apply_answer_the_result_but_leave_the_object_and_its_watchers_alone()
    {
        await using var t = await TestServer.StartAsync("1.34");
        var stored = await t.CreateAsync(Classes, """{"metadata":{"name":"gpu.nvidia.com","labels":{"a":"1"}},"spec":{}}""");
        var before = t.Server.Store.ResourceVersion;
        var type = t.Server.Catalog.Find("resource.k8s.io", "v1", "deviceclasses")!;
        using var watch = t.Server.Store.Watch(type, null, before);

        var changed = stored.DeepClone().AsObject();
        changed["metadata"]!["labels"]!["a"] = "2";
        var (put, putBody) = await t.PutAsync(Classes + "/gpu.nvidia.com?dryRun=All", changed);
        Assert.Equal(HttpStatusCode.OK, put);
        Assert.Equal("2", putBody["metadata"]!["labels"]!["a"]!.GetValue<string>());

        var (patch, patchBody) = await t.PatchAsync(Classes + "/gpu.nvidia.com?dryRun=All", JsonNode.Parse("""{"metadata":{"labels":{"a":"3"}}}""")!);
        Assert.Equal(HttpStatusCode.OK, patch);
        Assert.Equal("3", patchBody["metadata"]!["labels"]!["a"]!.GetValue<string>());

        var (apply, _) = await t.PatchAsync(Classes + "/new-class?dryRun=All&fieldManager=t", JsonNode.Parse("""{"apiVersion":"resource.k8s.io/v1","kind":"DeviceClass","metadata":{"name":"new-class"},"spec":{}}""")!, "application/apply-patch+yaml");
        Assert.Equal(HttpStatusCode.Created, apply);

        var (_, now) = await t.GetAsync(Classes + "/gpu.nvidia.com");
        Assert.Equal("1", now["metadata"]!["labels"]!["a"]!.GetValue<string>());
        Assert.Equal(stored["metadata"]!["resourceVersion"]!.GetValue<string>(), now["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync(Classes + "/new-class")).Status);
        Assert.Equal(before, t.Server.Store.ResourceVersion);
        Assert.False(watch.Live.TryRead(out _), "a dry run must not reach watchers");
    }

    [Fact]
    public async Task Delete_and_deletecollection_check_preconditions_but_delete_nothing()
    {
        await using var t = await TestServer.StartAsync("1.34");
        await t.CreateAsync(Claims, Objects.Claim("v1", "c1").ToJsonString());
        await t.CreateAsync(Claims, Objects.Claim("v1", "c2").ToJsonString());
        var before = t.Server.Store.ResourceVersion;

        var (deleted, body) = await t.DeleteAsync(Claims + "/c1?dryRun=All");
        Assert.Equal(HttpStatusCode.OK, deleted);
        Assert.Equal("c1", body["metadata"]!["name"]!.GetValue<string>());
        // dryRun in DeleteOptions (what client-go sends) counts as well.
        var (viaOptions, _) = await t.DeleteAsync(Claims + "/c1", JsonNode.Parse("""{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"]}"""));
        Assert.Equal(HttpStatusCode.OK, viaOptions);
        var (conflict, _) = await t.DeleteAsync(Claims + "/c1?dryRun=All", JsonNode.Parse("""{"preconditions":{"uid":"not-the-uid"}}"""));
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        // A malformed dryRun in the options is not "All": the delete is real, not a crash.
        var (malformed, _) = await t.DeleteAsync(Claims + "/c2", JsonNode.Parse("""{"dryRun":"All"}"""));
        Assert.Equal(HttpStatusCode.OK, malformed);
        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync(Claims + "/c2")).Status);
        var afterRealDelete = t.Server.Store.ResourceVersion;
        Assert.True(afterRealDelete > before);

        var (collection, list) = await t.DeleteAsync(Claims + "?dryRun=All");
        Assert.Equal(HttpStatusCode.OK, collection);
        Assert.Single(list["items"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, (await t.GetAsync(Claims + "/c1")).Status);
        Assert.Equal(afterRealDelete, t.Server.Store.ResourceVersion);
    }
}
