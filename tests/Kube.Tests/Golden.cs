using System.Text.Json.Nodes;

namespace SecureDra.Kube.Tests;

internal static class Golden
{
    public static string Text(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", name));

    public static JsonObject Object(string name) => JsonNode.Parse(Text(name))!.AsObject();

    public static void AssertJsonEqual(JsonNode expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected\n{expected.ToJsonString()}\nactual\n{actual.ToJsonString()}");
}
