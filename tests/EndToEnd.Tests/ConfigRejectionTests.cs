using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Untrusted opaque config, end to end: the API server stores it, the plugin refuses it at Prepare with a
/// per-claim error naming the field and the limit, and a good claim in the same batch still prepares.
/// </summary>
public class ConfigRejectionTests
{
    private const string Head = "\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"GpuConfig\"";

    public static TheoryData<string, string, string[]> Rejected => new()
    {
        { "unknown-field", $"{{{Head},\"mode\":\"fast\"}}", ["opaque.parameters.mode", "unknown field", "allowed fields are apiVersion, kind, resetPolicy"] },
        { "tenant-reset", $"{{{Head},\"resetPolicy\":\"None\"}}", ["opaque.parameters.resetPolicy", "not allowed in a claim", "ZeroVRAMOnRelease"] },
        { "removed-sharing-strategy", $"{{{Head},\"sharingStrategy\":\"TimeSlicing\"}}", ["opaque.parameters.sharingStrategy", "unknown field", "removed: GPU sharing was never applied"] },
        { "removed-time-slice", $"{{{Head},\"sharingTimeSliceMs\":100}}", ["opaque.parameters.sharingTimeSliceMs", "unknown field", "removed: GPU sharing was never applied"] },
        { "unknown-reset-policy", $"{{{Head},\"resetPolicy\":\"Sometimes\"}}", ["opaque.parameters.resetPolicy", "the only reset policy is ZeroVRAMOnRelease"] },
        { "int-for-string", $"{{{Head},\"resetPolicy\":7}}", ["opaque.parameters.resetPolicy", "must be a string"] },
        { "deep-nesting", $"{{{Head},\"x\":{new string('[', 20)}{new string(']', 20)}}}", ["opaque.parameters.x", "nesting depth", "exceeds the maximum 8"] },
        { "wrong-kind", "{\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"Other\"}", ["opaque.parameters.kind", "must be GpuConfig"] },
    };

    [Fact]
    public async Task Each_bad_config_is_its_own_claims_error_naming_the_field_and_the_limit()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { Gpus = 2 });
        await node.CreateDeviceClassAsync("gpu");
        var good = await node.ClaimDeviceAsync("good", "gpu-1", claimConfig: E2eNode.GpuConfig());
        foreach (var (name, parameters, expected) in Rejected.Select(r => ((string)r[0], (string)r[1], (string[])r[2])))
        {
            var bad = await node.ClaimDeviceAsync(name, "gpu-0", claimConfig: JsonNode.Parse(parameters));
            var answer = await node.Kubelet.PrepareAsync([bad, good]);
            Assert.Equal(2, answer.Count);
            var error = answer[bad.Uid].Error;
            Assert.Empty(answer[bad.Uid].Devices);
            Assert.StartsWith($"claim default/{name}: invalid opaque config: status.allocation.devices.config[0].opaque.parameters", error, StringComparison.Ordinal);
            foreach (var part in expected)
            {
                Assert.True(error.Contains(part, StringComparison.Ordinal), $"{name}: \"{part}\" missing from the error: {error}");
            }

            Assert.True(answer[good.Uid].Error.Length == 0, $"{name}: the good claim in the same batch failed: {answer[good.Uid].Error}");
            Assert.False(File.Exists(node.CdiFile(bad.Uid)), $"{name}: a rejected claim got a CDI spec");
        }

        // Nothing of the rejected claims was reserved: gpu-0 is free for a valid claim.
        var valid = await node.ClaimDeviceAsync("valid", "gpu-0", claimConfig: E2eNode.GpuConfig());
        await node.PrepareOkAsync(valid);
        Assert.Contains("securedra_config_rejections_total", await node.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_class_config_may_never_relax_the_reset_policy()
    {
        await using var node = await E2eNode.StartAsync();
        var relaxed = E2eNode.GpuConfig(resetPolicy: "None");
        await node.CreateDeviceClassAsync("relaxed", relaxed);
        var claim = await node.ClaimDeviceAsync("via-class", "gpu-0", deviceClass: "relaxed", classConfig: relaxed);
        var error = (await node.PrepareOneAsync(claim)).Error;
        Assert.Contains("opaque.parameters.resetPolicy: None is not supported: no DeviceClass can turn off the VRAM scrub", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_removed_reset_policy_override_flag_is_a_usage_error()
    {
        // It changed nothing (the stored policy was never read); a node started with it must hear so, not run.
        await using var node = await E2eNode.StartAsync();
        await using var plugin = SecuredraProcess.Start("plugin-with-removed-flag", [.. node.PluginArgs(), "--allow-class-reset-policy-override"]);
        await plugin.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, plugin.ExitCode);
        Assert.Contains("--allow-class-reset-policy-override", plugin.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_size_configs_are_refused_by_the_api_server_at_10_KiB_and_by_the_plugin_at_its_own_lower_limit()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { ExtraPluginArgs = ["--max-config-bytes", "1024"] });
        await node.CreateDeviceClassAsync("gpu");

        // Over the API server's own limit (10 KiB): it never gets stored, as on a real API server.
        var huge = Padded(11 * 1024);
        var (status, body) = await node.SendRawAsync(HttpMethod.Post, node.ClaimsPath, Encoding.UTF8.GetBytes(node.ClaimBody("huge", "gpu", ["gpu"], huge).ToJsonString()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("opaque.parameters", body, StringComparison.Ordinal);

        // Under 10 KiB but over the plugin's --max-config-bytes 1024: a per-claim error with the limit.
        var claim = await node.ClaimDeviceAsync("big", "gpu-0", claimConfig: Padded(2048));
        var error = (await node.PrepareOneAsync(claim)).Error;
        Assert.Contains("status.allocation.devices.config[0].opaque.parameters", error, StringComparison.Ordinal);
        Assert.Contains("exceeds the maximum 1024 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplicate_keys_are_refused_by_the_api_server_before_any_plugin_sees_them()
    {
        // The local API server, like a real one with strict field validation, refuses a body with duplicate
        // keys; the plugin's own decoder refusing them too is covered by the Api unit tests.
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var body = Encoding.UTF8.GetBytes(node.ClaimBody("dup", "gpu", ["gpu"], JsonNode.Parse("{\"placeholder\":\"PLACEHOLDER\"}")).ToJsonString());
        var raw = Splice(body, "{\"placeholder\":\"PLACEHOLDER\"}", Encoding.UTF8.GetBytes($"{{{Head},\"resetPolicy\":\"ZeroVRAMOnRelease\",\"resetPolicy\":\"None\"}}"));
        var (status, text) = await node.SendRawAsync(HttpMethod.Post, node.ClaimsPath, raw);
        Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status} {text}");
        Assert.Contains("resetPolicy", text, StringComparison.Ordinal);
        using var get = await node.Api.GetAsync(node.ClaimPath("dup"));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Invalid_utf8_is_replaced_by_the_api_server_and_the_result_refused_by_the_plugin()
    {
        // As Go's encoding/json does, the API server stores invalid UTF-8 as U+FFFD instead of refusing it;
        // what reaches the plugin is then a value that is no allowed reset policy.
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var body = Encoding.UTF8.GetBytes(node.ClaimBody("utf8", "gpu", ["gpu"], JsonNode.Parse($"{{{Head},\"resetPolicy\":\"PLACEHOLDER\"}}")).ToJsonString());
        var raw = Splice(body, "PLACEHOLDER", [(byte)'Z', 0xC3, 0x28, 0xFF, (byte)'o']);
        var (status, text) = await node.SendRawAsync(HttpMethod.Post, node.ClaimsPath, raw);
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {text}");
        var claim = await node.AllocateAsync("utf8", [("gpu", "gpu-0")]);
        var error = (await node.PrepareOneAsync(claim)).Error;
        Assert.Contains("status.allocation.devices.config[0].opaque.parameters.resetPolicy", error, StringComparison.Ordinal);
        Assert.Contains("is not supported; the only reset policy is ZeroVRAMOnRelease", error, StringComparison.Ordinal);
    }

    private static JsonObject Padded(int bytes)
    {
        var config = E2eNode.GpuConfig();
        for (var i = 0; config.ToJsonString().Length < bytes; i++)
        {
            config[$"pad{i}"] = new string('x', 200);
        }

        return config;
    }

    private static byte[] Splice(byte[] body, string marker, byte[] replacement)
    {
        var text = Encoding.UTF8.GetString(body);
        var at = Encoding.UTF8.GetByteCount(text[..text.IndexOf(marker, StringComparison.Ordinal)]);
        return [.. body[..at], .. replacement, .. body[(at + Encoding.UTF8.GetByteCount(marker))..]];
    }
}
