using System.Net;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

public class SliceValidationTests
{
    private static async Task<(HttpStatusCode Status, JsonObject Body)> Post(TestServer t, string version, JsonObject slice) =>
        await t.PostAsync(Objects.ResourcePath(version, "resourceslices"), slice);

    private static List<(string Field, string Reason)> Causes(JsonObject status) =>
        status["details"]!["causes"]!.AsArray().Select(c => (c!["field"]!.GetValue<string>(), c["reason"]!.GetValue<string>())).ToList();

    [Fact]
    public async Task Required_fields_and_node_selection_are_422_Invalid_with_causes()
    {
        await using var t = await TestServer.StartAsync();
        var slice = Objects.Slice("v1", "s");
        slice["spec"]!.AsObject().Remove("driver");
        slice["spec"]!["pool"]!.AsObject().Remove("name");
        slice["spec"]!["allNodes"] = true;
        var (status, body) = await Post(t, "v1", slice);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("Invalid", body["reason"]!.GetValue<string>());
        Assert.Equal(422, body["code"]!.GetValue<int>());
        Assert.Equal("ResourceSlice", body["details"]!["kind"]!.GetValue<string>());
        Assert.StartsWith("ResourceSlice.resource.k8s.io \"s\" is invalid: [", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var causes = Causes(body);
        Assert.Contains(("spec.driver", "FieldValueRequired"), causes);
        Assert.Contains(("spec.pool.name", "FieldValueRequired"), causes);
        Assert.Contains(("spec", "FieldValueInvalid"), causes);

        var none = Objects.Slice("v1", "s2");
        none["spec"]!.AsObject().Remove("nodeName");
        var (status2, body2) = await Post(t, "v1", none);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status2);
        Assert.Contains(("spec", "FieldValueRequired"), Causes(body2));
    }

    [Theory]
    [InlineData("1.32", "v1beta1")]
    [InlineData("1.34", "v1")]
    [InlineData("1.36", "v1")]
    public async Task At_most_128_devices_per_slice(string kubernetes, string version)
    {
        await using var t = await TestServer.StartAsync(kubernetes);
        Assert.Equal(HttpStatusCode.Created, (await Post(t, version, Objects.Slice(version, "ok", devices: 128))).Status);
        var (status, body) = await Post(t, version, Objects.Slice(version, "too-many", devices: 129));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains(("spec.devices", "FieldValueTooMany"), Causes(body));
        Assert.Contains("must have at most 128 items", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static JsonObject Taints(int count)
    {
        var taints = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            taints.Add((JsonNode)new JsonObject { ["key"] = $"example.com/t{i}", ["effect"] = "NoSchedule" });
        }

        return new JsonObject { ["taints"] = taints };
    }

    [Theory]
    [InlineData("1.34", 128, true)]
    [InlineData("1.35", 64, true)]
    [InlineData("1.35", 65, false)]
    [InlineData("1.36", 65, false)]
    public async Task Devices_with_taints_limit_the_slice_to_64_from_1_35(string kubernetes, int devices, bool accepted)
    {
        await using var t = await TestServer.StartAsync(kubernetes, o => o.DeviceTaints = true);
        var (status, body) = await Post(t, "v1", Objects.Slice("v1", "s", devices: devices, extra: i => i == 0 ? Taints(1) : null));
        Assert.True((status == HttpStatusCode.Created) == accepted, body.ToJsonString()[..Math.Min(400, body.ToJsonString().Length)]);
        if (!accepted)
        {
            Assert.Contains("must have at most 64 items", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("1.34", 4, true)]
    [InlineData("1.34", 5, false)]
    [InlineData("1.35", 16, true)]
    [InlineData("1.35", 17, false)]
    public async Task Taints_per_device_are_limited_by_release(string kubernetes, int taints, bool accepted)
    {
        await using var t = await TestServer.StartAsync(kubernetes, o => o.DeviceTaints = true);
        var (status, body) = await Post(t, "v1", Objects.Slice("v1", "s", extra: _ => Taints(taints)));
        Assert.Equal(accepted ? HttpStatusCode.Created : HttpStatusCode.UnprocessableEntity, status);
        if (!accepted)
        {
            Assert.Contains(("spec.devices[0].taints", "FieldValueTooMany"), Causes(body));
        }
    }

    [Fact]
    public async Task Attribute_values_and_names_are_checked()
    {
        await using var t = await TestServer.StartAsync();
        var extra = new JsonObject
        {
            ["attributes"] = new JsonObject
            {
                ["driverVersion"] = new JsonObject { ["version"] = "550.54" },
                ["productName"] = new JsonObject { ["string"] = new string('x', 65) },
                ["two"] = new JsonObject { ["string"] = "a", ["int"] = 1 },
                ["bad-name"] = new JsonObject { ["bool"] = true },
                ["resource.kubernetes.io/pcieRoot"] = new JsonObject { ["string"] = "pci0000:00" },
            },
        };
        var slice = Objects.Slice("v1", "s", extra: _ => extra);
        slice["spec"]!["devices"]![0]!["name"] = "GPU_0";
        var (status, body) = await Post(t, "v1", slice);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var causes = Causes(body);
        Assert.Contains(("spec.devices[0].attributes[driverVersion].version", "FieldValueInvalid"), causes);
        Assert.Contains(("spec.devices[0].attributes[productName].string", "FieldValueTooLong"), causes);
        Assert.Contains(("spec.devices[0].attributes[two]", "FieldValueInvalid"), causes);
        Assert.Contains(("spec.devices[0].attributes[bad-name]", "FieldValueInvalid"), causes);
        Assert.Contains(("spec.devices[0].name", "FieldValueInvalid"), causes);
        Assert.DoesNotContain(causes, c => c.Field.Contains("pcieRoot", StringComparison.Ordinal));
        Assert.Contains("must be a string compatible with semver.org spec 2.0.0", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task V1beta1_causes_name_the_basic_path()
    {
        await using var t = await TestServer.StartAsync("1.32");
        var extra = new JsonObject { ["attributes"] = new JsonObject { ["driverVersion"] = new JsonObject { ["version"] = "v550" } } };
        var (status, body) = await Post(t, "v1beta1", Objects.Slice("v1beta1", "s", extra: _ => extra));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains(("spec.devices[0].basic.attributes[driverVersion].version", "FieldValueInvalid"), Causes(body));
    }

    [Fact]
    public async Task Driver_and_pool_are_immutable_and_duplicate_device_names_rejected()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.CreateAsync(Objects.ResourcePath("v1", "resourceslices"), Objects.Slice("v1", "s").ToJsonString());
        created["spec"]!["driver"] = "other.example.com";
        var (status, body) = await t.PutAsync(Objects.ResourcePath("v1", "resourceslices") + "/s", created);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains(("spec.driver", "FieldValueInvalid"), Causes(body));

        var dup = Objects.Slice("v1", "d", devices: 2);
        dup["spec"]!["devices"]![1]!["name"] = "gpu-0";
        var (status2, body2) = await Post(t, "v1", dup);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status2);
        Assert.Contains(("spec.devices[1].name", "FieldValueDuplicate"), Causes(body2));
    }
}
