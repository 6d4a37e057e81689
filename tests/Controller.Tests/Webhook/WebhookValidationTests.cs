using System.Net;
using System.Text.Json.Nodes;
using SecureDra.Controller.Tests.Support;

namespace SecureDra.Controller.Tests.Webhook;

/// <summary>
/// Admission decisions over real HTTPS with the real shared validator (src/Api ResourceObjectValidator): every
/// rejection case answers allowed=false, code 422, and a message naming the offending field.
/// </summary>
public sealed class WebhookValidationTests : IAsyncLifetime
{
    private WebhookServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await WebhookServer.StartAsync();
        _client = _server.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    public static TheoryData<string> Versions => new() { "v1", "v1beta2", "v1beta1" };

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Valid_claim_is_allowed_in_every_version(string version)
    {
        var response = await ReviewAsync(Claims.Review(Claims.Claim(version, Claims.ValidParameters), version));
        Assert.True((bool)response["allowed"]!, response.ToJsonString());
        Assert.Equal("705ab4f5-6393-11e8-b7cc-42010a800002", (string?)response["uid"]);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Valid_template_is_allowed_in_every_version(string version)
    {
        var response = await ReviewAsync(Claims.Review(Claims.Template(version, Claims.ValidParameters), version, "resourceclaimtemplates"));
        Assert.True((bool)response["allowed"]!, response.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Tenant_reset_policy_None_is_denied_in_claims_of_every_version(string version)
    {
        var response = await ReviewAsync(Claims.Review(Claims.Claim(version, """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"None"}"""), version));
        AssertDenied(response, "spec.devices.config[0].opaque.parameters.resetPolicy");
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Tenant_reset_policy_None_is_denied_in_templates_of_every_version(string version)
    {
        var response = await ReviewAsync(Claims.Review(Claims.Template(version, """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"None"}"""), version, "resourceclaimtemplates"));
        AssertDenied(response, "devices.config[0].opaque.parameters.resetPolicy");
        Assert.Contains("ResourceClaimTemplate", (string?)response["status"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_field_is_denied_naming_it()
    {
        var response = await ReviewAsync(Claims.Review(Claims.Claim("v1", """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease","scrubFaster":true}""")));
        AssertDenied(response, "spec.devices.config[0].opaque.parameters.scrubFaster");
    }

    [Fact]
    public async Task Wrong_type_is_denied_naming_the_field()
    {
        var response = await ReviewAsync(Claims.Review(Claims.Claim("v1", """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":7}""")));
        AssertDenied(response, "spec.devices.config[0].opaque.parameters.resetPolicy");
    }

    [Theory]
    [InlineData("sharingStrategy", "\"TimeSlicing\"")]
    [InlineData("sharingTimeSliceMs", "100")]
    public async Task Removed_sharing_fields_are_denied_naming_them_and_why(string field, string value)
    {
        var response = await ReviewAsync(Claims.Review(Claims.Claim("v1", $$"""{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","{{field}}":{{value}}}""")));
        AssertDenied(response, $"spec.devices.config[0].opaque.parameters.{field}");
        Assert.Contains("removed: GPU sharing was never applied", (string?)response["status"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplicate_key_in_parameters_is_denied_naming_it()
    {
        var response = await ReviewAsync(Claims.Review(Claims.Claim("v1", """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease","resetPolicy":"None"}""")));
        AssertDenied(response, "resetPolicy");
    }

    [Fact]
    public async Task Deep_nesting_in_parameters_is_denied_naming_the_depth_limit()
    {
        var deep = string.Concat(Enumerable.Repeat("""{"a":""", 40)) + "1" + new string('}', 40);
        var response = await ReviewAsync(Claims.Review(Claims.Claim("v1", """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","x":""" + deep + "}")));
        AssertDenied(response, "spec.devices.config[0].opaque.parameters");
    }

    [Fact]
    public async Task Oversized_parameters_are_denied_naming_the_byte_limit()
    {
        var padding = new string('x', 11 * 1024);
        var response = await ReviewAsync(Claims.Review(Claims.Claim("v1", "{\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"GpuConfig\",\"pad\":\"" + padding + "\"}")));
        AssertDenied(response, "spec.devices.config[0].opaque.parameters");
        Assert.Contains("10240", (string?)response["status"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parameters_that_are_not_an_object_are_denied()
    {
        var response = await ReviewAsync(Claims.Review(Claims.Claim("v1", "[1,2]")));
        AssertDenied(response, "spec.devices.config[0].opaque.parameters");
    }

    [Fact]
    public async Task Config_for_another_driver_is_allowed()
    {
        var response = await ReviewAsync(Claims.Review(Claims.Claim("v1", """{"anything":"goes","resetPolicy":"None"}""", driver: "other.example.com")));
        Assert.True((bool)response["allowed"]!, response.ToJsonString());
    }

    [Fact]
    public async Task Update_that_changes_the_spec_is_validated()
    {
        var old = Claims.Claim("v1", Claims.ValidParameters);
        var changed = Claims.Claim("v1", """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"None"}""");
        var response = await ReviewAsync(Claims.Review(changed, operation: "UPDATE", oldObjectJson: old));
        AssertDenied(response, "resetPolicy");
    }

    private async Task<JsonObject> ReviewAsync(string review)
    {
        using var response = await _client.PostAsync(_server.WebhookUri, WebhookServer.Json(review));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Claims.Response(await response.Content.ReadAsStringAsync());
    }

    private static void AssertDenied(JsonObject response, string field)
    {
        Assert.False((bool)response["allowed"]!, response.ToJsonString());
        Assert.Equal(422, (int)response["status"]!["code"]!);
        Assert.Equal("Invalid", (string?)response["status"]!["reason"]);
        Assert.Contains(field, (string?)response["status"]!["message"], StringComparison.Ordinal);
    }
}
