using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Api.Manifests;
using SecureDra.Api.Validation;
using SecureDra.ConfigBench;

// Config validation benchmark (issue 4): a typical config ≤ 5 µs; a 10 MB hostile input ≤ 50 µs,
// rejected after reading at most limit + 1 bytes.
var validator = new GpuConfigValidator(new GpuConfigLimits());
var limit = validator.Limits.MaxBytes;
var typical = """
    {"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}
    """u8.ToArray();
var invalid = """
    {"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"None","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":0}
    """u8.ToArray();

// 10 MB of the worst kind of JSON: a string that never ends, behind deep nesting.
var hostile = new byte[10 * 1024 * 1024];
hostile.AsSpan(0, 4096).Fill((byte)'[');
hostile.AsSpan(4096).Fill((byte)'a');

if (!validator.Decode(typical, "p", ConfigOrigin.Claim).IsValid || validator.Decode(hostile, "p", ConfigOrigin.Claim).IsValid)
{
    Console.Error.WriteLine("benchmark inputs do not behave as expected");
    return 1;
}

var counting = new CountingStream(new MemoryStream(hostile, writable: false));
var streamResult = BoundedInput.ReadAtMostAsync(counting, limit, CancellationToken.None).GetAwaiter().GetResult();
var streamDecoded = validator.Decode(streamResult.Span, "p", ConfigOrigin.Claim);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"hostile 10 MB stream: read {counting.BytesRead} bytes (limit {limit} + 1), rejected: {streamDecoded.Errors[0]}"));
if (counting.BytesRead > limit + 1)
{
    Console.Error.WriteLine("read more than limit + 1 bytes");
    return 1;
}

var claim = JsonNode.Parse(
    "{\"apiVersion\":\"resource.k8s.io/v1\",\"kind\":\"ResourceClaim\",\"metadata\":{\"name\":\"c\",\"namespace\":\"t\"},"
    + "\"spec\":{\"devices\":{\"requests\":[{\"name\":\"gpu\",\"exactly\":{\"deviceClassName\":\"nvidia-gpu-shared\"}}],"
    + "\"config\":[{\"requests\":[\"gpu\"],\"opaque\":{\"driver\":\"gpu.nvidia.com\",\"parameters\":" + Encoding.UTF8.GetString(typical) + "}}]}}}")!.AsObject();
var objects = new ResourceObjectValidator(validator, "gpu.nvidia.com");
var seedYaml = """
    apiVersion: resource.k8s.io/v1
    kind: DeviceClass
    metadata:
      name: nvidia-gpu-shared
    spec:
      selectors:
      - cel:
          expression: "device.driver == 'gpu.nvidia.com'"
      config:
      - opaque:
          driver: gpu.nvidia.com
          parameters:
            apiVersion: resource.securedra.io/v1alpha1
            kind: GpuConfig
            resetPolicy: "ZeroVRAMOnRelease"
    """u8.ToArray();
var reader = new ManifestReader();

Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC");
var results = new List<Measure.Result>
{
    Measure.Run("GpuConfig decode, typical (100 B, valid)", 100_000, 31, () => validator.Decode(typical, "config[0].opaque.parameters", ConfigOrigin.DeviceClass)),
    Measure.Run("GpuConfig decode, typical with 2 errors", 100_000, 31, () => validator.Decode(invalid, "config[0].opaque.parameters", ConfigOrigin.Claim)),
    Measure.Run("GpuConfig decode, 10 MB hostile span", 100_000, 31, () => validator.Decode(hostile, "p", ConfigOrigin.Claim)),
    Measure.Run("10 MB hostile stream: bounded read (limit+1) + decode", 2_000, 31, () =>
    {
        var stream = new MemoryStream(hostile, writable: false);
        var input = BoundedInput.ReadAtMostAsync(stream, limit, CancellationToken.None).GetAwaiter().GetResult();
        validator.Decode(input.Span, "p", ConfigOrigin.Claim);
    }),
    Measure.Run("ResourceObjectValidator, claim with one config", 20_000, 31, () => objects.Validate(claim)),
    Measure.Run("ManifestReader, seed DeviceClass YAML", 2_000, 31, () => reader.Read(seedYaml)),
};

foreach (var result in results)
{
    Console.WriteLine(Measure.Format(result));
}

var typicalOk = results[0].MedianNsPerOp <= 5_000;
var hostileOk = results[2].MedianNsPerOp <= 50_000 && results[3].MedianNsPerOp <= 50_000;
Console.WriteLine($"goal typical ≤ 5 µs: {(typicalOk ? "met" : "MISSED")}; goal hostile ≤ 50 µs: {(hostileOk ? "met" : "MISSED")}");
return typicalOk && hostileOk ? 0 : 3;
