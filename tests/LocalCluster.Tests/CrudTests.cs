using System.Net;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

public class CrudTests
{
    private const string Nodes = "/api/v1/nodes";

    [Fact]
    public async Task Create_sets_uid_timestamp_resourceVersion_generation_and_get_returns_it()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.CreateAsync(Nodes, """{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"}}""");
        var meta = created["metadata"]!;
        Assert.True(Guid.TryParse(meta["uid"]!.GetValue<string>(), out _));
        Assert.True(DateTimeOffset.TryParse(meta["creationTimestamp"]!.GetValue<string>(), out _));
        Assert.NotEmpty(meta["resourceVersion"]!.GetValue<string>());
        Assert.Equal(1, meta["generation"]!.GetValue<long>());
        Assert.Equal("Node", created["kind"]!.GetValue<string>());

        var (status, got) = await t.GetAsync(Nodes + "/node-a");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(meta["uid"]!.GetValue<string>(), got["metadata"]!["uid"]!.GetValue<string>());
    }

    [Fact]
    public async Task GenerateName_appends_a_random_suffix()
    {
        await using var t = await TestServer.StartAsync();
        var a = await t.CreateAsync(Nodes, """{"metadata":{"generateName":"node-a-gpu.nvidia.com-"}}""");
        var b = await t.CreateAsync(Nodes, """{"metadata":{"generateName":"node-a-gpu.nvidia.com-"}}""");
        var nameA = a["metadata"]!["name"]!.GetValue<string>();
        Assert.StartsWith("node-a-gpu.nvidia.com-", nameA, StringComparison.Ordinal);
        Assert.Equal("node-a-gpu.nvidia.com-".Length + 5, nameA.Length);
        Assert.NotEqual(nameA, b["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Errors_are_Kubernetes_Status_bodies()
    {
        await using var t = await TestServer.StartAsync();
        var (status, body) = await t.GetAsync(Nodes + "/missing");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("Status", body["kind"]!.GetValue<string>());
        Assert.Equal("v1", body["apiVersion"]!.GetValue<string>());
        Assert.Equal("Failure", body["status"]!.GetValue<string>());
        Assert.Equal("NotFound", body["reason"]!.GetValue<string>());
        Assert.Equal(404, body["code"]!.GetValue<int>());
        Assert.Equal("nodes \"missing\" not found", body["message"]!.GetValue<string>());
        Assert.Equal("missing", body["details"]!["name"]!.GetValue<string>());
        Assert.Equal("nodes", body["details"]!["kind"]!.GetValue<string>());

        await t.CreateAsync(Nodes, """{"metadata":{"name":"n1"}}""");
        var (dupStatus, dup) = await t.PostAsync(Nodes, JsonNode.Parse("""{"metadata":{"name":"n1"}}""")!);
        Assert.Equal(HttpStatusCode.Conflict, dupStatus);
        Assert.Equal("AlreadyExists", dup["reason"]!.GetValue<string>());

        var (nsStatus, ns) = await t.PostAsync("/api/v1/namespaces/nope/serviceaccounts", JsonNode.Parse("""{"metadata":{"name":"sa"}}""")!);
        Assert.Equal(HttpStatusCode.NotFound, nsStatus);
        Assert.Equal("namespaces \"nope\" not found", ns["message"]!.GetValue<string>());

        var (unknown, _) = await t.GetAsync("/apis/example.com/v1/widgets");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
    }

    [Fact]
    public async Task List_filters_by_label_selector_operators()
    {
        await using var t = await TestServer.StartAsync();
        await t.CreateAsync(Nodes, """{"metadata":{"name":"a","labels":{"zone":"x","gpu":"h100"}}}""");
        await t.CreateAsync(Nodes, """{"metadata":{"name":"b","labels":{"zone":"y"}}}""");
        await t.CreateAsync(Nodes, """{"metadata":{"name":"c","labels":{"zone":"z","gpu":"a100"}}}""");

        async Task<string> Names(string selector)
        {
            var (status, list) = await t.GetAsync(Nodes + "?labelSelector=" + Uri.EscapeDataString(selector));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("NodeList", list["kind"]!.GetValue<string>());
            Assert.NotNull(list["metadata"]!["resourceVersion"]);
            return string.Join(",", list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        }

        Assert.Equal("a", await Names("zone=x"));
        Assert.Equal("a", await Names("zone==x"));
        Assert.Equal("b,c", await Names("zone!=x"));
        Assert.Equal("a,b", await Names("zone in (x, y)"));
        Assert.Equal("c", await Names("zone notin (x,y)"));
        Assert.Equal("a,c", await Names("gpu"));
        Assert.Equal("b", await Names("!gpu"));
        Assert.Equal("c", await Names("gpu,zone in (y,z)"));
        var (bad, status) = await t.GetAsync(Nodes + "?labelSelector=" + Uri.EscapeDataString("zone in x"));
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Equal("BadRequest", status["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_filters_slices_by_field_selector_and_rejects_unsupported_fields()
    {
        await using var t = await TestServer.StartAsync();
        var path = Objects.ResourcePath("v1", "resourceslices");
        await t.CreateAsync(path, Objects.Slice("v1", "s-a", "node-a").ToJsonString());
        await t.CreateAsync(path, Objects.Slice("v1", "s-b", "node-b").ToJsonString());
        await t.CreateAsync(path, Objects.Slice("v1", "s-c", "node-b", driver: "other.example.com").ToJsonString());

        async Task<string> Names(string selector)
        {
            var (_, list) = await t.GetAsync(path + "?fieldSelector=" + Uri.EscapeDataString(selector));
            return string.Join(",", list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        }

        Assert.Equal("s-b,s-c", await Names("spec.nodeName=node-b"));
        Assert.Equal("s-b", await Names("spec.nodeName=node-b,spec.driver=gpu.nvidia.com"));
        Assert.Equal("s-a,s-b", await Names("spec.driver==gpu.nvidia.com"));
        Assert.Equal("s-c", await Names("spec.driver!=gpu.nvidia.com"));
        Assert.Equal("s-a", await Names("metadata.name=s-a"));
        var (status, body) = await t.GetAsync(path + "?fieldSelector=spec.pool.name%3Dx");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("field label not supported: spec.pool.name", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_with_stale_resourceVersion_is_a_409_Conflict()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.CreateAsync(Nodes, """{"metadata":{"name":"n","labels":{"a":"1"}}}""");
        var first = (JsonObject)created.DeepClone();
        first["metadata"]!["labels"]!["a"] = "2";
        var (ok, updated) = await t.PutAsync(Nodes + "/n", first);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.NotEqual(created["metadata"]!["resourceVersion"]!.GetValue<string>(), updated["metadata"]!["resourceVersion"]!.GetValue<string>());

        var stale = (JsonObject)created.DeepClone();
        stale["metadata"]!["labels"]!["a"] = "3";
        var (conflict, status) = await t.PutAsync(Nodes + "/n", stale);
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal("Conflict", status["reason"]!.GetValue<string>());
        Assert.Equal(409, status["code"]!.GetValue<int>());
        Assert.Equal("Operation cannot be fulfilled on nodes \"n\": the object has been modified; please apply your changes to the latest version and try again", status["message"]!.GetValue<string>());

        var (notFound, _) = await t.PutAsync(Nodes + "/other", JsonNode.Parse("""{"metadata":{"name":"other"}}""")!);
        Assert.Equal(HttpStatusCode.NotFound, notFound);
        var (mismatch, _) = await t.PutAsync(Nodes + "/n", JsonNode.Parse("""{"metadata":{"name":"x"}}""")!);
        Assert.Equal(HttpStatusCode.BadRequest, mismatch);
    }

    [Fact]
    public async Task Generation_counts_spec_changes_only()
    {
        await using var t = await TestServer.StartAsync();
        var path = Objects.ResourcePath("v1", "resourceslices");
        var slice = await t.CreateAsync(path, Objects.Slice("v1", "s").ToJsonString());
        slice["metadata"]!["labels"]!["x"] = "y";
        var (_, labelled) = await t.PutAsync(path + "/s", slice);
        Assert.Equal(1, labelled["metadata"]!["generation"]!.GetValue<long>());
        labelled["spec"]!["pool"]!["generation"] = 2;
        var (_, changed) = await t.PutAsync(path + "/s", labelled);
        Assert.Equal(2, changed["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task Merge_and_json_patch_apply()
    {
        await using var t = await TestServer.StartAsync();
        await t.CreateAsync(Nodes, """{"metadata":{"name":"n","labels":{"a":"1","b":"2"}}}""");
        var (ok, merged) = await t.PatchAsync(Nodes + "/n", JsonNode.Parse("""{"metadata":{"labels":{"a":null,"c":"3"}}}""")!);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("""{"b":"2","c":"3"}""", merged["metadata"]!["labels"]!.ToJsonString());

        var (ok2, patched) = await t.PatchAsync(Nodes + "/n", JsonNode.Parse("""[{"op":"replace","path":"/metadata/labels/b","value":"9"}]""")!, "application/json-patch+json");
        Assert.True(ok2 == HttpStatusCode.OK, patched.ToJsonString());
        Assert.Equal("9", patched["metadata"]!["labels"]!["b"]!.GetValue<string>());

        var (strategic, _) = await t.PatchAsync(Nodes + "/n", JsonNode.Parse("""{"metadata":{"labels":{"d":"4"}}}""")!, "application/strategic-merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, strategic);

        var (stale, _) = await t.PatchAsync(Nodes + "/n", JsonNode.Parse("""{"metadata":{"resourceVersion":"1","labels":{"e":"5"}}}""")!);
        Assert.Equal(HttpStatusCode.Conflict, stale);
    }

    [Fact]
    public async Task Delete_honours_preconditions_and_finalizers()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.CreateAsync(Nodes, """{"metadata":{"name":"n"}}""");
        var (conflict, status) = await t.DeleteAsync(Nodes + "/n", JsonNode.Parse("""{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}""")!);
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Contains("Precondition failed: UID in precondition", status["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var uid = created["metadata"]!["uid"]!.GetValue<string>();
        var (ok, _) = await t.DeleteAsync(Nodes + "/n", new JsonObject { ["preconditions"] = new JsonObject { ["uid"] = uid } });
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync(Nodes + "/n")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await t.DeleteAsync(Nodes + "/n")).Status);

        await t.CreateAsync(Nodes, """{"metadata":{"name":"f","finalizers":["example.com/keep"]}}""");
        var (marked, body) = await t.DeleteAsync(Nodes + "/f");
        Assert.Equal(HttpStatusCode.OK, marked);
        Assert.NotNull(body["metadata"]!["deletionTimestamp"]);
        var (_, still) = await t.GetAsync(Nodes + "/f");
        still["metadata"]!.AsObject().Remove("finalizers");
        Assert.Equal(HttpStatusCode.OK, (await t.PutAsync(Nodes + "/f", still)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync(Nodes + "/f")).Status);
    }

    [Fact]
    public async Task Deletecollection_wipes_slices_by_field_selector()
    {
        await using var t = await TestServer.StartAsync();
        var path = Objects.ResourcePath("v1", "resourceslices");
        await t.CreateAsync(path, Objects.Slice("v1", "a1", "node-a").ToJsonString());
        await t.CreateAsync(path, Objects.Slice("v1", "a2", "node-a").ToJsonString());
        await t.CreateAsync(path, Objects.Slice("v1", "b1", "node-b").ToJsonString());
        var (ok, deleted) = await t.DeleteAsync(path + "?fieldSelector=" + Uri.EscapeDataString("spec.nodeName=node-a,spec.driver=gpu.nvidia.com"));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(2, deleted["items"]!.AsArray().Count);
        var (_, list) = await t.GetAsync(path);
        Assert.Equal("b1", list["items"]![0]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Single(list["items"]!.AsArray());
    }

    [Fact]
    public async Task Status_subresource_changes_only_status_and_main_resource_ignores_status()
    {
        await using var t = await TestServer.StartAsync();
        var path = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims";
        var claim = Objects.Claim("v1", "c");
        claim["status"] = Objects.Allocation();
        var created = await t.CreateAsync(path, claim.ToJsonString());
        Assert.Null(created["status"]);
        Assert.Equal("ExactCount", created["spec"]!["devices"]!["requests"]![0]!["exactly"]!["allocationMode"]!.GetValue<string>());
        Assert.Equal(1, created["spec"]!["devices"]!["requests"]![0]!["exactly"]!["count"]!.GetValue<int>());

        var withStatus = (JsonObject)created.DeepClone();
        withStatus["status"] = Objects.Allocation();
        withStatus["metadata"]!["labels"] = new JsonObject { ["x"] = "y" };
        var (ok, updated) = await t.PutAsync(path + "/c/status", withStatus);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("gpu-0", updated["status"]!["allocation"]!["devices"]!["results"]![0]!["device"]!.GetValue<string>());
        Assert.Null(updated["metadata"]!["labels"]);

        var dropStatus = (JsonObject)updated.DeepClone();
        dropStatus.Remove("status");
        dropStatus["metadata"]!["labels"] = new JsonObject { ["x"] = "y" };
        var (ok2, main) = await t.PutAsync(path + "/c", dropStatus);
        Assert.Equal(HttpStatusCode.OK, ok2);
        Assert.NotNull(main["status"]!["allocation"]);
        Assert.Equal("y", main["metadata"]!["labels"]!["x"]!.GetValue<string>());

        var bogus = (JsonObject)main.DeepClone();
        bogus["status"]!["devices"] = new JsonArray(new JsonObject { ["driver"] = "gpu.nvidia.com", ["pool"] = "node-a", ["device"] = "gpu-7" });
        var (invalid, status) = await t.PutAsync(path + "/c/status", bogus);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid);
        Assert.Contains("must be an allocated device in the claim", status["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var realloc = (JsonObject)main.DeepClone();
        realloc["status"]!["allocation"]!["devices"]!["results"]![0]!["device"] = "gpu-1";
        var (immutable, immutableStatus) = await t.PutAsync(path + "/c/status", realloc);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, immutable);
        Assert.Contains("status.allocation: Invalid value", immutableStatus["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var dealloc = (JsonObject)main.DeepClone();
        dealloc["status"]!.AsObject().Remove("allocation");
        var (deallocated, _) = await t.PutAsync(path + "/c/status", dealloc);
        Assert.Equal(HttpStatusCode.OK, deallocated);

        var specChange = (JsonObject)main.DeepClone();
        specChange["metadata"]!.AsObject().Remove("resourceVersion");
        specChange["spec"]!["devices"]!["requests"]![0]!["name"] = "other";
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await t.PutAsync(path + "/c", specChange)).Status);
    }

    [Fact]
    public async Task Apply_patch_creates_then_merges()
    {
        await using var t = await TestServer.StartAsync();
        var body = JsonNode.Parse("""{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"plugin","labels":{"a":"1"}}}""")!;
        var path = "/api/v1/namespaces/kube-system/serviceaccounts/plugin?fieldManager=test";
        var (created, _) = await t.PatchAsync(path, body, "application/apply-patch+yaml");
        Assert.Equal(HttpStatusCode.Created, created);
        body["metadata"]!["labels"]!["a"] = "2";
        var (ok, updated) = await t.PatchAsync(path, body, "application/apply-patch+yaml");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("2", updated["metadata"]!["labels"]!["a"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/events", "Event")]
    [InlineData("/apis/events.k8s.io/v1/namespaces/default/events", "Event")]
    [InlineData("/api/v1/namespaces/default/resourcequotas", "ResourceQuota")]
    [InlineData("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", "Lease")]
    [InlineData("/apis/apps/v1/namespaces/kube-system/daemonsets", "DaemonSet")]
    [InlineData("/apis/rbac.authorization.k8s.io/v1/clusterroles", "ClusterRole")]
    [InlineData("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "ClusterRoleBinding")]
    [InlineData("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", "Role")]
    [InlineData("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", "RoleBinding")]
    [InlineData("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", "ValidatingAdmissionPolicy")]
    [InlineData("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding")]
    [InlineData("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", "ValidatingWebhookConfiguration")]
    [InlineData("/apis/resource.k8s.io/v1/deviceclasses", "DeviceClass")]
    public async Task Every_catalogued_resource_round_trips(string path, string kind)
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.CreateAsync(path, """{"metadata":{"name":"x1"}}""");
        Assert.Equal(kind, created["kind"]!.GetValue<string>());
        var (status, got) = await t.GetAsync(path + "/x1");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(kind + "List", (await t.GetAsync(path)).Body["kind"]!.GetValue<string>());
        Assert.Equal(created["metadata"]!["uid"]!.ToJsonString(), got["metadata"]!["uid"]!.ToJsonString());
    }
}
