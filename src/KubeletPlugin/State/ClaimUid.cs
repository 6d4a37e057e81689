namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// The only check a claim UID needs before it becomes part of a file or CDI name: 1–128
/// characters of [A-Za-z0-9-]. Kubernetes UIDs are RFC 4122 strings, so this rejects nothing
/// real and makes path traversal impossible.
/// </summary>
public static class ClaimUid
{
    public const int MaxLength = 128;

    public static bool IsValid(string? uid) =>
        uid is { Length: > 0 and <= MaxLength } && uid.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public static string Require(string? uid) =>
        IsValid(uid) ? uid! : throw new ArgumentException($"claim uid {Quote(uid)} is not 1-{MaxLength} characters of [A-Za-z0-9-]", nameof(uid));

    private static string Quote(string? uid) => uid is null ? "(null)" : "\"" + (uid.Length > 64 ? uid[..64] + "…" : uid) + "\"";
}
