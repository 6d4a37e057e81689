using System.Text;
using SecureDra.Api.Manifests;
using SecureDra.Fuzz.Oracles;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// <see cref="ManifestReader.Read"/> under the production limits and under tiny ones. Documented: never
/// throws. Oracles: a read without errors returned every document that has content (issue 16 defect 3: a
/// root <c>.nan</c> vanished), and the text holds none of the refused constructs (duplicate key, anchor,
/// alias, merge key, non-finite number, YAML 1.1 boolean, a tag other than !!str); every returned tree is
/// within the depth, node and document limits, with finite numbers and valid Unicode. With
/// <see cref="CompareFilePath"/> the file path (<see cref="ManifestReader.ReadFileAsync"/>) must agree.
/// </summary>
public sealed class ManifestReaderTarget(bool compareFilePath = false) : IFuzzTarget
{
    private static readonly ManifestReader[] Readers =
    [
        new(new ManifestLimits()),
        new(new ManifestLimits { MaxBytes = 4096, MaxDepth = 3, MaxNodes = 60, MaxDocuments = 3 }),
    ];

    public string Name => "manifest-reader";

    public int MaxInputBytes => 16 * 1024;

    /// <summary>Also read the input from a real file and compare (slow: used when replaying corpora, not in mutation loops).</summary>
    public bool CompareFilePath { get; } = compareFilePath;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        var accepted = false;
        foreach (var reader in Readers)
        {
            ManifestReadResult result;
            try
            {
                result = reader.Read(input);
            }
            catch (Exception ex)
            {
                throw FuzzFindingException.Escaped(Name, ex);
            }

            if (CompareFilePath)
            {
                CompareWithFile(reader, input, result);
            }

            if (result.Errors.Count > 0)
            {
                continue;
            }

            accepted = true;
            Check(reader.Limits, input, result);
        }

        return accepted ? FuzzVerdict.Accepted : FuzzVerdict.Rejected;
    }

    private void Check(ManifestLimits limits, ReadOnlySpan<byte> input, ManifestReadResult result)
    {
        if (input.Length > limits.MaxBytes)
        {
            throw FuzzFindingException.WrongAccept(Name, $"over-limit size {input.Length} > {limits.MaxBytes}");
        }

        if (result.Documents.Count > limits.MaxDocuments)
        {
            throw FuzzFindingException.WrongAccept(Name, $"over-limit document count {result.Documents.Count}");
        }

        var text = Encoding.UTF8.GetString(input.StartsWith("\uFEFF"u8) ? input[3..] : input);
        var facts = YamlFacts.Of(text) ?? throw FuzzFindingException.WrongAccept(Name, "YamlDotNet cannot parse this text, yet the read reports no error");
        if (facts.Refused is { } refused)
        {
            throw FuzzFindingException.WrongAccept(Name, $"the text has {refused}, yet the read reports no error");
        }

        if (facts.ContentDocuments != result.Documents.Count)
        {
            throw FuzzFindingException.WrongAccept(Name, $"{facts.ContentDocuments} document(s) with content, {result.Documents.Count} returned and no error (a document was dropped silently)");
        }

        var nodes = 0;
        foreach (var document in result.Documents)
        {
            if (JsonTreeFacts.Violation(document.Object, limits.MaxDepth, ref nodes) is { } violation)
            {
                throw FuzzFindingException.WrongAccept(Name, $"document {document.Index}: {violation}");
            }
        }
    }

    private void CompareWithFile(ManifestReader reader, ReadOnlySpan<byte> input, ManifestReadResult span)
    {
        var path = Path.Combine(Path.GetTempPath(), $"securedra-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}.yaml");
        File.WriteAllBytes(path, input.ToArray());
        try
        {
            var file = reader.ReadFileAsync(path, CancellationToken.None).GetAwaiter().GetResult();
            if (!file.Errors.SequenceEqual(span.Errors) || file.Documents.Count != span.Documents.Count || file.DocumentCount != span.DocumentCount)
            {
                throw FuzzFindingException.Disagree(Name, $"span: {span.Documents.Count} docs, {span.Errors.Count} errors; file: {file.Documents.Count} docs, {file.Errors.Count} errors");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
