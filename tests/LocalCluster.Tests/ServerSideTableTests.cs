using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace SecureDra.LocalCluster.Tests;

/// <summary>Server-side printing: the Table kubectl get asks for, with the real printers' columns and cells.</summary>
public class ServerSideTableTests
{
    private const string KubectlAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    private static async Task<(HttpStatusCode Status, JsonObject Body)> GetTable(TestServer t, string path, string accept = KubectlAccept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await t.Http.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private static List<string> Columns(JsonObject table) =>
        [.. table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>())];

    private static List<string> Cells(JsonObject table, int row) =>
        [.. table["rows"]![row]!["cells"]!.AsArray().Select(c => c!.GetValue<string>())];

    [Fact]
    public async Task Slices_have_the_real_printers_columns_and_an_age_from_the_servers_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var t = await TestServer.StartAsync("1.34", time: time);
        await t.CreateAsync(Objects.ResourcePath("v1", "resourceslices"), Objects.Slice("v1", "node-a-gpu").ToJsonString());
        time.Advance(TimeSpan.FromSeconds(200));

        var (status, table) = await GetTable(t, Objects.ResourcePath("v1", "resourceslices"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Table", table["kind"]!.GetValue<string>());
        Assert.Equal("meta.k8s.io/v1", table["apiVersion"]!.GetValue<string>());
        Assert.Equal(["Name", "Node", "Driver", "Pool", "Age"], Columns(table));
        Assert.Equal(["node-a-gpu", "node-a", "gpu.nvidia.com", "node-a", "3m20s"], Cells(table, 0));
        Assert.False(string.IsNullOrEmpty(table["metadata"]!["resourceVersion"]!.GetValue<string>()));
        // The default row object is the metadata only (PartialObjectMetadata), as the real server sends.
        var row = table["rows"]![0]!["object"]!;
        Assert.Equal("PartialObjectMetadata", row["kind"]!.GetValue<string>());
        Assert.Equal("node-a-gpu", row["metadata"]!["name"]!.GetValue<string>());
        Assert.Null(row["spec"]);
    }

    [Fact]
    public async Task Claim_state_follows_allocation_reservation_and_deletion()
    {
        await using var t = await TestServer.StartAsync("1.34");
        var claims = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims";
        await t.CreateAsync(claims, Objects.Claim("v1", "pending-claim").ToJsonString());
        var reserved = await t.CreateAsync(claims, Objects.Claim("v1", "reserved-claim").ToJsonString());
        var status = Objects.Allocation();
        status["reservedFor"] = new JsonArray(new JsonObject { ["resource"] = "pods", ["name"] = "p", ["uid"] = "u-1" });
        reserved["status"] = status;
        var (put, body) = await t.PutAsync($"{claims}/reserved-claim/status", reserved);
        Assert.True(put == HttpStatusCode.OK, body.ToJsonString());
        var deleting = Objects.Claim("v1", "deleting-claim");
        deleting["metadata"]!["finalizers"] = new JsonArray("example.com/hold");
        await t.CreateAsync(claims, deleting.ToJsonString());
        await t.DeleteAsync($"{claims}/deleting-claim");

        var (_, table) = await GetTable(t, claims);
        Assert.Equal(["Name", "State", "Age"], Columns(table));
        var states = table["rows"]!.AsArray().ToDictionary(r => r!["cells"]![0]!.GetValue<string>(), r => r!["cells"]![1]!.GetValue<string>());
        Assert.Equal("pending", states["pending-claim"]);
        Assert.Equal("allocated,reserved", states["reserved-claim"]);
        Assert.Equal("deleted", states["deleting-claim"]);
    }

    [Fact]
    public async Task Single_get_device_classes_nodes_namespaces_and_the_default_columns()
    {
        await using var t = await TestServer.StartAsync("1.34");
        await t.CreateAsync("/apis/resource.k8s.io/v1/deviceclasses", """{"metadata":{"name":"gpu.nvidia.com"},"spec":{}}""");
        await t.CreateAsync("/api/v1/nodes", """{"metadata":{"name":"node-a","labels":{"node-role.kubernetes.io/worker":"","node-role.kubernetes.io/gpu":""}},"spec":{"unschedulable":true}}""");
        var (_, node) = await t.GetAsync("/api/v1/nodes/node-a");
        node["status"] = JsonNode.Parse("""{"conditions":[{"type":"Ready","status":"True"}],"nodeInfo":{"kubeletVersion":"v1.34.0"}}""");
        Assert.Equal(HttpStatusCode.OK, (await t.PutAsync("/api/v1/nodes/node-a/status", node)).Status);
        await t.CreateAsync("/api/v1/namespaces/default/serviceaccounts", """{"metadata":{"name":"sa"}}""");

        var (_, classTable) = await GetTable(t, "/apis/resource.k8s.io/v1/deviceclasses/gpu.nvidia.com");
        Assert.Equal(["Name", "Age"], Columns(classTable));
        Assert.Single(classTable["rows"]!.AsArray());

        var (_, nodes) = await GetTable(t, "/api/v1/nodes");
        Assert.Equal(["Name", "Status", "Roles", "Age", "Version"], Columns(nodes));
        var cells = Cells(nodes, 0);
        Assert.Equal(["node-a", "Ready,SchedulingDisabled", "gpu,worker"], cells.Take(3));
        Assert.Equal("v1.34.0", cells[4]);

        var (_, namespaces) = await GetTable(t, "/api/v1/namespaces");
        Assert.Equal(["Name", "Status", "Age"], Columns(namespaces));
        Assert.Contains(namespaces["rows"]!.AsArray(), r => r!["cells"]![0]!.GetValue<string>() == "default" && r["cells"]![1]!.GetValue<string>() == "Active");

        var (_, accounts) = await GetTable(t, "/api/v1/namespaces/default/serviceaccounts");
        Assert.Equal(["Name", "Created At"], Columns(accounts));
        Assert.Equal("date", accounts["columnDefinitions"]![1]!["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("application/json", false)]
    [InlineData("application/json, application/json;as=Table;v=v1;g=meta.k8s.io", false)]
    [InlineData("application/json;as=Table;v=v1beta1;g=meta.k8s.io", true)]
    [InlineData("application/json;as=Table;v=v2;g=meta.k8s.io,application/json", false)]
    [InlineData("application/json;as=Table;v=v1;g=example.com", false)]
    [InlineData("application/json;as=Table;as=Table;v=v1;v=v1;g=meta.k8s.io", true)]
    [InlineData(";;;=,=;as", false)]
    public async Task Only_an_accepted_table_media_type_gets_a_table(string accept, bool table)
    {
        await using var t = await TestServer.StartAsync("1.34");
        var (status, body) = await GetTable(t, "/api/v1/namespaces", accept);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(table ? "Table" : "NamespaceList", body["kind"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Object", true)]
    [InlineData("None", false)]
    public async Task IncludeObject_chooses_what_each_row_carries(string include, bool whole)
    {
        await using var t = await TestServer.StartAsync("1.34");
        await t.CreateAsync(Objects.ResourcePath("v1", "resourceslices"), Objects.Slice("v1", "s").ToJsonString());
        var (_, table) = await GetTable(t, Objects.ResourcePath("v1", "resourceslices") + "?includeObject=" + include);
        var row = table["rows"]![0]!.AsObject();
        if (whole)
        {
            Assert.Equal("ResourceSlice", row["object"]!["kind"]!.GetValue<string>());
            Assert.NotNull(row["object"]!["spec"]);
        }
        else
        {
            Assert.False(row.ContainsKey("object"));
        }

        var (bad, status) = await GetTable(t, Objects.ResourcePath("v1", "resourceslices") + "?includeObject=Everything");
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Contains("includeObject", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watch_asking_for_tables_gets_a_one_row_table_per_event_and_a_plain_watch_gets_objects()
    {
        await using var t = await TestServer.StartAsync("1.34");
        var slices = Objects.ResourcePath("v1", "resourceslices");
        await t.CreateAsync(slices, Objects.Slice("v1", "s").ToJsonString());
        using var tables = await WatchReader.OpenAsync(t, slices + "?watch=true", KubectlAccept);
        using var objects = await WatchReader.OpenAsync(t, slices + "?watch=true");

        var added = await tables.NextAsync();
        Assert.Equal("ADDED", added["type"]!.GetValue<string>());
        Assert.Equal("Table", added["object"]!["kind"]!.GetValue<string>());
        Assert.Equal(["Name", "Node", "Driver", "Pool", "Age"], Columns(added["object"]!.AsObject()));
        Assert.Equal("s", Assert.Single(added["object"]!["rows"]!.AsArray())!["cells"]![0]!.GetValue<string>());
        Assert.Equal("ResourceSlice", (await objects.NextAsync())["object"]!["kind"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.OK, (await t.PatchAsync(slices + "/s", JsonNode.Parse("""{"metadata":{"labels":{"x":"y"}}}""")!)).Status);
        var modified = await tables.NextAsync();
        Assert.Equal("MODIFIED", modified["type"]!.GetValue<string>());
        Assert.Equal("y", modified["object"]!["rows"]![0]!["object"]!["metadata"]!["labels"]!["x"]!.GetValue<string>());
        Assert.Equal("ResourceSlice", (await objects.NextAsync())["object"]!["kind"]!.GetValue<string>());
    }
}
