using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>The optional VRAM-canary CronJob (issue 14, item 4): off by default; when on, a hardened pod with one GPU claim.</summary>
[Collection(ChartCollection.Name)]
public sealed class CanaryChartTests(RenderedChart chart)
{
    private const string Name = "securedra-vram-canary";

    private (string File, IReadOnlyList<JsonObject> Objects) Render(params string[] sets)
    {
        var file = chart.TempFile($"canary-{Guid.NewGuid():N}.yaml", RenderedChart.Render(RenderedChart.Namespace, [.. sets.SelectMany(s => new[] { "--set", s })]));
        return (file, RenderedChart.Parse(file));
    }

    [Fact]
    public void Off_by_default()
    {
        Assert.DoesNotContain(chart.Objects, o => o.Str("metadata.name").Contains("canary", StringComparison.Ordinal));
    }

    [Fact]
    public void When_enabled_a_hardened_cron_job_claims_one_gpu_of_the_exclusive_class_and_reports_through_an_event()
    {
        var (file, objects) = Render("canary.enabled=true", "canary.timeoutSeconds=300", "canary.maxBytes=8Gi", "canary.schedule=@daily");
        var cron = objects.Single(o => o.Str("kind") == "CronJob");
        Assert.Equal(Name, cron.Str("metadata.name"));
        Assert.Equal("@daily", cron.Str("spec.schedule"));
        Assert.Equal("Forbid", cron.Str("spec.concurrencyPolicy"));
        var job = cron.At("spec.jobTemplate.spec")!;
        Assert.Equal(0, (int)job.At("backoffLimit")!);
        Assert.Equal(420, (int)job.At("activeDeadlineSeconds")!);

        var pod = job.At("template.spec")!;
        Assert.Equal("Never", pod.Str("restartPolicy"));
        Assert.Equal(Name, pod.Str("serviceAccountName"));
        Assert.True((bool)pod.At("securityContext.runAsNonRoot")!);
        Assert.Equal("RuntimeDefault", pod.Str("securityContext.seccompProfile.type"));
        var podClaim = Assert.Single(pod.Items("resourceClaims"));
        Assert.Equal(Name, podClaim.Str("resourceClaimTemplateName"));

        var container = Assert.Single(pod.Items("containers"));
        Assert.Equal(["canary", "--gpu-backend=nvidia", "--timeout=300s", "--max-bytes=8Gi"], container.Strings("args"));
        Assert.Equal([podClaim.Str("name")], container.Items("resources.claims").Select(c => c.Str("name")));
        Assert.False((bool)container.At("securityContext.privileged")!);
        Assert.False((bool)container.At("securityContext.allowPrivilegeEscalation")!);
        Assert.True((bool)container.At("securityContext.readOnlyRootFilesystem")!);
        Assert.Equal(["ALL"], container.Strings("securityContext.capabilities.drop"));
        var env = container.Items("env").Select(e => e.Str("name")).ToHashSet();
        Assert.Superset(new HashSet<string> { "POD_NAME", "POD_NAMESPACE", "POD_UID" }, env);

        var template = objects.Single(o => o.Str("kind") == "ResourceClaimTemplate");
        Assert.Equal(Name, template.Str("metadata.name"));
        var request = Assert.Single(template.Items("spec.spec.devices.requests"));
        Assert.Equal("securedra-gpu-exclusive", request.Str("exactly.deviceClassName"));
        Assert.Equal(1, (int)request.At("exactly.count")!);

        // Least privilege: the only API call is an Event on its own pod.
        var role = objects.Single(o => o.Str("kind") == "Role" && o.Str("metadata.name") == Name);
        var rule = Assert.Single(role.Items("rules"));
        Assert.Equal(["events"], rule.Strings("resources"));
        Assert.Equal(["create"], rule.Strings("verbs"));
        var binding = objects.Single(o => o.Str("kind") == "RoleBinding" && o.Str("metadata.name") == Name);
        Assert.Equal(Name, Assert.Single(binding.Items("subjects")).Str("name"));

        var results = JsonNode.Parse(Tool.Node("validate-schemas.mjs", file))!.AsArray();
        foreach (var r in results.Where(r => r.Str("name").Contains("canary", StringComparison.Ordinal)))
        {
            Assert.True(r.Str("status") == "valid", $"{r.Str("kind")}/{r.Str("name")}: {r.Str("status")} {string.Join("; ", r.Strings("errors"))}");
        }
    }

    [Fact]
    public void The_canary_pod_and_claim_template_pass_the_charts_own_admission_policies()
    {
        var (file, _) = Render("canary.enabled=true");
        var results = JsonNode.Parse(Tool.Node("canary-admission.mjs", file))!.AsArray();
        Assert.Contains(results, r => r.Str("object") == "canary pod" && r.Str("policy") == "securedra-pod-hardening" && (bool)r!["applies"]!);
        Assert.Contains(results, r => r.Str("object") == "canary claim template" && r.Str("policy") == "securedra-claims-v1" && (bool)r!["applies"]!);
        Assert.All(results, r => Assert.True((bool)r!["allowed"]!, $"{r.Str("object")} denied by {r.Str("policy")}: {string.Join("; ", r.Strings("failed"))}"));

        // Not vacuous: a class tenants may not use is refused by the claim policy.
        var (unapproved, _) = Render("canary.enabled=true", "canary.deviceClassName=someone-elses-class");
        var denied = JsonNode.Parse(Tool.Node("canary-admission.mjs", unapproved))!.AsArray();
        Assert.Contains(denied, r => r.Str("object") == "canary claim template" && !(bool)r!["allowed"]!);
    }

    [Fact]
    public void Placement_and_resources_values_reach_the_canary_pod()
    {
        var (_, objects) = Render("canary.enabled=true", "canary.nodeSelector.pool=gpu-a", "canary.resources.limits.memory=300Mi", "canary.tolerations=null");
        var pod = objects.Single(o => o.Str("kind") == "CronJob").At("spec.jobTemplate.spec.template.spec")!;
        Assert.Equal("gpu-a", pod.Str("nodeSelector.pool"));
        Assert.Null(pod["tolerations"]);
        Assert.Equal("300Mi", Assert.Single(pod.Items("containers")).Str("resources.limits.memory"));
        Assert.Equal("nvidia", pod.Str("runtimeClassName"));

        var defaults = Render("canary.enabled=true").Objects.Single(o => o.Str("kind") == "CronJob").At("spec.jobTemplate.spec.template.spec")!;
        Assert.Equal("nvidia.com/gpu", Assert.Single(defaults.Items("tolerations")).Str("key"));
    }

    [Fact]
    public void The_claim_template_follows_the_configured_api_version_and_class()
    {
        var (_, v1beta1) = Render("canary.enabled=true", "deviceClasses.apiVersion=resource.k8s.io/v1beta1", "canary.deviceClassName=site-gpu", "policy.claims.extraApprovedDeviceClasses={site-gpu}");
        var template = v1beta1.Single(o => o.Str("kind") == "ResourceClaimTemplate");
        Assert.Equal("resource.k8s.io/v1beta1", template.Str("apiVersion"));
        var request = Assert.Single(template.Items("spec.spec.devices.requests"));
        Assert.Equal("site-gpu", request.Str("deviceClassName"));
        Assert.Equal(1, (int)request.At("count")!);
        Assert.Null(request.At("exactly"));

        // v1beta2 has the v1 shape. (The 1.36 schemas have neither beta version, so only v1 is schema-checked, above.)
        var (_, v1beta2) = Render("canary.enabled=true", "deviceClasses.apiVersion=resource.k8s.io/v1beta2");
        var t2 = v1beta2.Single(o => o.Str("kind") == "ResourceClaimTemplate");
        Assert.Equal("resource.k8s.io/v1beta2", t2.Str("apiVersion"));
        Assert.Equal("securedra-gpu-exclusive", Assert.Single(t2.Items("spec.spec.devices.requests")).Str("exactly.deviceClassName"));
    }
}
