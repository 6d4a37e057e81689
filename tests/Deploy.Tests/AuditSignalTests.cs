using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The three audit signals of the hardening guide (adminAccess claims, claim parameters over 16 KB,
/// DeviceClass mutations), shipped as Falco rules (deploy/audit/falco) and jq filters for SIEMs
/// (deploy/audit/jq), evaluated against sample audit events: at least one matching and one
/// non-matching event per rule. The Falco rules run in js/falco.mjs, a test evaluator for the subset
/// of Falco's condition language they use, not in Falco itself; the jq filters run in the real jq.
/// </summary>
[Collection(ChartCollection.Name)]
public sealed class AuditSignalTests(RenderedChart chart)
{
    private const string AdminRule = "SecureDra adminAccess claim created";
    private const string SizeRule = "SecureDra claim parameters over 16 KB";
    private const string ClassRule = "SecureDra DeviceClass mutated";

    private static readonly Dictionary<string, string> JqFilters = new(StringComparer.Ordinal)
    {
        [AdminRule] = "adminaccess-claim-created.jq",
        [SizeRule] = "claim-parameters-over-16k.jq",
        [ClassRule] = "deviceclass-mutated.jq",
    };

    /// <summary>(name, event, the rules it must trigger).</summary>
    private static IReadOnlyList<(string Name, JsonObject Event, string[] Expected)> Samples()
    {
        var samples = new List<(string, JsonObject, string[])>
        {
            ("admin claim v1", Event("create", "resourceclaims", "v1", Claim(new JsonObject { ["exactly"] = Exact(admin: true) })), [AdminRule]),
            ("admin template v1beta1", Event("create", "resourceclaimtemplates", "v1beta1",
                new JsonObject { ["spec"] = new JsonObject { ["spec"] = Devices(new JsonObject { ["name"] = "gpu", ["deviceClassName"] = "c", ["adminAccess"] = true }) } }), [AdminRule]),
            ("admin in a v1 subrequest", Event("create", "resourceclaims", "v1", Claim(new JsonObject
            {
                ["firstAvailable"] = new JsonArray(new JsonObject { ["name"] = "a", ["deviceClassName"] = "c", ["adminAccess"] = true }),
            })), [AdminRule]),
            ("admin claim refused by admission is still reported", WithCode(Event("create", "resourceclaims", "v1", Claim(new JsonObject { ["exactly"] = Exact(admin: true) })), 403), [AdminRule]),
            ("ordinary claim", Event("create", "resourceclaims", "v1", Claim(new JsonObject { ["exactly"] = Exact(admin: false) })), []),
            ("adminAccess text in an annotation", Event("create", "resourceclaims", "v1", Annotated(Claim(new JsonObject { ["exactly"] = Exact(admin: false) }), "{\"adminAccess\":true}")), []),
            ("admin claim status write", Event("update", "resourceclaims", "v1", Claim(new JsonObject { ["exactly"] = Exact(admin: true) }), subresource: "status"), []),
            ("admin claim in another API group", Event("create", "resourceclaims", "v1", Claim(new JsonObject { ["exactly"] = Exact(admin: true) }), group: "example.com"), []),
            ("admin claim at RequestReceived", Stage(Event("create", "resourceclaims", "v1", Claim(new JsonObject { ["exactly"] = Exact(admin: true) })), "RequestReceived"), []),
            ("17 KiB of claim parameters", WithCode(Event("create", "resourceclaims", "v1", Configured(Claim(new JsonObject { ["exactly"] = Exact(admin: false) }), 17 * 1024)), 422), [SizeRule]),
            ("17 KiB of template parameters", Event("create", "resourceclaimtemplates", "v1",
                new JsonObject { ["spec"] = Configured(Claim(new JsonObject { ["exactly"] = Exact(admin: false) }), 17 * 1024) }), [SizeRule]),
            ("8 KiB of claim parameters", Event("create", "resourceclaims", "v1", Configured(Claim(new JsonObject { ["exactly"] = Exact(admin: false) }), 8 * 1024)), []),
            ("17 KiB but a DeviceClass", Event("create", "deviceclasses", "v1", Configured(Claim(new JsonObject()), 17 * 1024)), [ClassRule]),
            ("DeviceClass create", Event("create", "deviceclasses", "v1", new JsonObject { ["spec"] = new JsonObject() }), [ClassRule]),
            ("DeviceClass patch v1beta2", Event("patch", "deviceclasses", "v1beta2", new JsonObject()), [ClassRule]),
            ("DeviceClass delete", Event("delete", "deviceclasses", "v1", null), [ClassRule]),
            ("DeviceClass get", Event("get", "deviceclasses", "v1", null), []),
            ("DeviceClass list", Event("list", "deviceclasses", "v1", null), []),
            ("deviceclasses of another group", Event("delete", "deviceclasses", "v1", null, group: "example.com"), []),
        };
        return samples;
    }

    [Fact]
    public void Falco_rules_fire_exactly_on_the_matching_sample_events()
    {
        var results = Evaluate(out var samples);
        foreach (var (name, _, expected) in samples)
        {
            var matched = results[name];
            Assert.True(expected.Order(StringComparer.Ordinal).SequenceEqual(matched.Order(StringComparer.Ordinal)),
                $"{name}: expected [{string.Join(", ", expected)}], Falco rules matched [{string.Join(", ", matched)}]");
        }

        // Each rule has a matching and a non-matching sample, so none is vacuous.
        foreach (var rule in JqFilters.Keys)
        {
            Assert.Contains(samples, s => s.Expected.Contains(rule));
            Assert.Contains(samples, s => !s.Expected.Contains(rule));
        }
    }

    [Fact]
    public void The_evaluator_refuses_syntax_it_does_not_implement_instead_of_guessing()
    {
        var rules = chart.TempFile("unknown-falco.yaml", """
            - rule: Unknown field
              desc: x
              condition: ka.req.pod.host_network = true
              output: x
              priority: WARNING
              source: k8s_audit
            """);
        var events = chart.TempFile("one-event.json", new JsonArray(new JsonObject { ["name"] = "e", ["event"] = new JsonObject() }).ToJsonString());
        var r = Tool.Run("node", [Path.Combine(RepoPaths.Scripts, "falco.mjs"), rules, events]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("unsupported field ka.req.pod.host_network", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_jq_filters_for_siems_select_the_same_events()
    {
        var samples = Samples();
        var lines = string.Join("\n", samples.Select(s => s.Event.ToJsonString()));
        var input = chart.TempFile("audit.jsonl", lines + "\n");
        foreach (var (rule, file) in JqFilters)
        {
            var output = Tool.RunOk("jq", "-c", "-f", Path.Combine(RepoPaths.Root, "deploy", "audit", "jq", file), input);
            var selected = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => samples.Single(s => s.Event.ToJsonString() == JsonNode.Parse(l)!.ToJsonString()).Name).ToList();
            var expected = samples.Where(s => s.Expected.Contains(rule)).Select(s => s.Name).ToList();
            Assert.True(expected.SequenceEqual(selected), $"{file}: expected [{string.Join(", ", expected)}], selected [{string.Join(", ", selected)}]");
        }
    }

    private Dictionary<string, List<string>> Evaluate(out IReadOnlyList<(string Name, JsonObject Event, string[] Expected)> samples)
    {
        samples = Samples();
        var events = new JsonArray([.. samples.Select(s => (JsonNode)new JsonObject { ["name"] = s.Name, ["event"] = s.Event.DeepClone() })]);
        var file = chart.TempFile("audit-events.json", events.ToJsonString());
        var rules = Path.Combine(RepoPaths.Root, "deploy", "audit", "falco", "securedra-rules.yaml");
        return JsonNode.Parse(Tool.Node("falco.mjs", rules, file))!.AsArray()
            .ToDictionary(r => r!["event"]!.GetValue<string>(), r => r!["matched"]!.AsArray().Select(m => m!.GetValue<string>()).ToList());
    }

    private static JsonObject Event(string verb, string resource, string version, JsonObject? body, string? subresource = null, string group = "resource.k8s.io")
    {
        var objectRef = new JsonObject { ["resource"] = resource, ["namespace"] = "tenant-a", ["name"] = "x", ["apiGroup"] = group, ["apiVersion"] = version };
        if (subresource is not null)
        {
            objectRef["subresource"] = subresource;
        }

        var e = new JsonObject
        {
            ["kind"] = "Event", ["apiVersion"] = "audit.k8s.io/v1", ["level"] = "RequestResponse", ["auditID"] = Guid.NewGuid().ToString(),
            ["stage"] = "ResponseComplete", ["verb"] = verb, ["requestURI"] = $"/apis/{group}/{version}/{resource}",
            ["user"] = new JsonObject { ["username"] = "alice", ["groups"] = new JsonArray("tenant-a-developers") },
            ["objectRef"] = objectRef, ["responseStatus"] = new JsonObject { ["code"] = verb == "create" ? 201 : 200 },
        };
        if (body is not null)
        {
            e["requestObject"] = body;
        }

        return e;
    }

    private static JsonObject Exact(bool admin) => new() { ["deviceClassName"] = "securedra-gpu-exclusive", ["allocationMode"] = "ExactCount", ["count"] = 1, ["adminAccess"] = admin };

    private static JsonObject Devices(JsonObject request) => new() { ["devices"] = new JsonObject { ["requests"] = new JsonArray(request) } };

    private static JsonObject Claim(JsonObject requestBody)
    {
        requestBody["name"] = "gpu";
        return new JsonObject { ["metadata"] = new JsonObject { ["name"] = "x" }, ["spec"] = Devices(requestBody) };
    }

    private static JsonObject Annotated(JsonObject claim, string text)
    {
        claim["metadata"]!["annotations"] = new JsonObject { ["note"] = text };
        return claim;
    }

    /// <summary>Adds one opaque config whose parameters serialize to about <paramref name="bytes"/> bytes.</summary>
    private static JsonObject Configured(JsonObject claim, int bytes)
    {
        var devices = (claim["spec"]?["devices"] as JsonObject) ?? new JsonObject();
        claim["spec"] ??= new JsonObject();
        claim["spec"]!["devices"] = devices;
        devices["config"] = new JsonArray(new JsonObject
        {
            ["opaque"] = new JsonObject
            {
                ["driver"] = "gpu.nvidia.com",
                ["parameters"] = new JsonObject { ["apiVersion"] = "resource.securedra.io/v1alpha1", ["kind"] = "GpuConfig", ["padding"] = new string('a', bytes) },
            },
        });
        return claim;
    }

    private static JsonObject WithCode(JsonObject e, int code)
    {
        e["responseStatus"] = new JsonObject { ["code"] = code };
        return e;
    }

    private static JsonObject Stage(JsonObject e, string stage)
    {
        e["stage"] = stage;
        return e;
    }
}
