using System.Text.Json.Nodes;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Tests.Support;

namespace SecureDra.Controller.Tests.Audit;

/// <summary>
/// <c>cc-devtools-mode</c>: a GPU published with <c>securedra.io/ccDevToolsMode=true</c> (CC devtools mode relaxes the
/// GPU's memory protections for debugging) is a High finding, exit 1 offline; false, absent, another driver's slice or
/// a text that only looks like it is not. The plugin side (the simulated CC state reaching the attribute) is in
/// KubeletPlugin.Tests ConfidentialComputeAttributeTests.
/// </summary>
public sealed class ConfidentialComputeDevToolsAuditTests
{
    private static string Slice(string devToolsValue, string driver = "gpu.nvidia.com", string node = "gpu-node-1") => $$"""
        apiVersion: resource.k8s.io/v1
        kind: ResourceSlice
        metadata:
          name: {{node}}-{{driver}}-abcde
        spec:
          driver: {{driver}}
          nodeName: {{node}}
          pool: {name: {{node}}, generation: 1, resourceSliceCount: 1}
          devices:
            - name: gpu-0
              attributes:
                type: {string: gpu}
                securedra.io/ccEnabled: {bool: true}
                securedra.io/ccDevToolsMode: {{devToolsValue}}
            - name: gpu-1
              attributes:
                type: {string: gpu}
        """;

    private static IReadOnlyList<AuditFinding> Audit(string yaml) =>
        new HardeningAuditor(new HardeningAuditOptions()).Audit(HardenedCluster.Snapshot(o => o.AddRange(new StrictManifestReader().Read(yaml, "slices.yaml"))));

    [Fact]
    public void Devtools_mode_on_is_a_high_finding_naming_the_node_and_the_device()
    {
        var finding = Assert.Single(Audit(Slice("{bool: true}")));

        Assert.Equal((AuditChecks.ConfidentialComputeDevTools, AuditSeverity.High, "ResourceSlice"), (finding.Check, finding.Severity, finding.Object.Kind));
        Assert.Contains("node gpu-node-1: confidential computing devtools mode is on for gpu-0:", finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("gpu-1", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{bool: false}")]
    [InlineData("{string: \"true\"}")] // not the attribute's type: the plugin never publishes it so
    [InlineData("{int: 1}")]
    public void Devtools_mode_off_or_mistyped_is_no_finding(string value) =>
        Assert.Empty(Audit(Slice(value)));

    [Fact]
    public void Another_driver_s_slice_is_not_judged()
    {
        Assert.Empty(Audit(Slice("{bool: true}", driver: "gpu.example.com")));
    }

    [Fact]
    public void A_v1beta1_slice_with_attributes_under_basic_is_judged_too()
    {
        var slice = new StrictManifestReader().Read(Slice("{bool: true}"), "slices.yaml").Single();
        slice["apiVersion"] = "resource.k8s.io/v1beta1";
        foreach (var device in slice["spec"]!["devices"]!.AsArray().OfType<JsonObject>())
        {
            var attributes = device["attributes"]!;
            device.Remove("attributes");
            device["basic"] = new JsonObject { ["attributes"] = attributes };
        }

        var findings = new HardeningAuditor(new HardeningAuditOptions()).Audit(HardenedCluster.Snapshot(o => o.Add(slice)));
        Assert.Equal(AuditChecks.ConfidentialComputeDevTools, Assert.Single(findings).Check);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public async Task Offline_audit_of_a_dump_exits_1_with_devtools_on_and_0_with_it_off(bool devTools, int expectedExit)
    {
        using var dir = new TempDir();
        HardenedCluster.WriteTo(dir.Path);
        await File.WriteAllTextAsync(dir.File("slices.yaml"), Slice(devTools ? "{bool: true}" : "{bool: false}"));
        using var output = new StringWriter();

        var exit = await AuditRunner.RunAsync(new ManifestDirectorySnapshotSource(dir.Path, new StrictManifestReader()), new HardeningAuditOptions(), "table", output, null, default);

        Assert.True(exit == expectedExit, output.ToString());
        Assert.Equal(devTools, output.ToString().Contains(AuditChecks.ConfidentialComputeDevTools, StringComparison.Ordinal));
    }
}
