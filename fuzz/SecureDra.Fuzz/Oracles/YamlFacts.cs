using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace SecureDra.Fuzz.Oracles;

/// <summary>
/// What a plain YamlDotNet event walk, with none of the manifest reader's judgement, sees in a YAML text:
/// the documents with content, the deepest nesting, and the first construct the reader documents that it
/// refuses. The manifest oracle holds the reader to these: a reader that reports no error must have
/// returned every document with content, and none of the refused constructs may be present.
/// </summary>
public sealed record YamlFacts(int ContentDocuments, int MaxDepth, string? Refused)
{
    private static readonly HashSet<string> NullScalars = new(StringComparer.Ordinal) { "", "~", "null", "Null", "NULL" };

    private static readonly HashSet<string> NonFinite = new(StringComparer.Ordinal)
    {
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF",
    };

    private static readonly HashSet<string> Yaml11Booleans = new(StringComparer.Ordinal)
    {
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    };

    /// <summary>Null when the plain parser itself fails on the text (the reader must then report an error).</summary>
    public static YamlFacts? Of(string text)
    {
        var parser = new Parser(new StringReader(text));
        var contentDocuments = 0;
        var maxDepth = 0;
        string? refused = null;
        var frames = new Stack<Frame>();
        var atDocumentRoot = false;
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                if (e is DocumentStart)
                {
                    atDocumentRoot = true;
                    continue;
                }

                if (e is MappingEnd or SequenceEnd)
                {
                    frames.Pop();
                    NodeDone(frames);
                    continue;
                }

                if (e is not NodeEvent and not AnchorAlias)
                {
                    continue;
                }

                if (atDocumentRoot)
                {
                    atDocumentRoot = false;
                    if (!(e is Scalar { Style: ScalarStyle.Plain } root && root.Tag.IsEmpty && NullScalars.Contains(root.Value)))
                    {
                        contentDocuments++;
                    }
                }

                if (e is AnchorAlias || e is NodeEvent { Anchor.IsEmpty: false })
                {
                    refused ??= "an anchor or alias";
                }

                var isKey = frames.Count > 0 && frames.Peek().Keys is not null && frames.Peek().ExpectKey;
                if (isKey)
                {
                    if (e is Scalar key)
                    {
                        if (key.Style == ScalarStyle.Plain && key.Value == "<<")
                        {
                            refused ??= "a merge key";
                        }

                        if (!frames.Peek().Keys!.Add(key.Value))
                        {
                            refused ??= $"a duplicate key \"{key.Value}\"";
                        }
                    }
                    else
                    {
                        refused ??= "a non-scalar key";
                    }
                }
                else if (e is Scalar { Style: ScalarStyle.Plain } value && value.Tag.IsEmpty && NonFinite.Contains(value.Value))
                {
                    refused ??= $"the non-finite number {value.Value}";
                }

                if (e is Scalar { Style: ScalarStyle.Plain } plain && plain.Tag.IsEmpty && Yaml11Booleans.Contains(plain.Value))
                {
                    refused ??= $"the YAML 1.1 boolean {plain.Value}";
                }

                if (e is NodeEvent { Tag: { IsEmpty: false, IsNonSpecific: false } tag } && tag.Value != "tag:yaml.org,2002:str")
                {
                    refused ??= $"the tag {tag.Value}";
                }

                switch (e)
                {
                    case MappingStart:
                        frames.Push(new Frame([]));
                        maxDepth = Math.Max(maxDepth, frames.Count);
                        break;
                    case SequenceStart:
                        frames.Push(new Frame(null));
                        maxDepth = Math.Max(maxDepth, frames.Count);
                        break;
                    default:
                        NodeDone(frames);
                        break;
                }
            }
        }
#pragma warning disable CA1031 // Any failure of the plain parser only means "no facts"; the reader must report an error then.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }

        return new YamlFacts(contentDocuments, maxDepth, refused);
    }

    /// <summary>A finished node inside a mapping turns "key next" into "value next" and back.</summary>
    private static void NodeDone(Stack<Frame> frames)
    {
        if (frames.Count > 0 && frames.Peek().Keys is not null)
        {
            frames.Peek().ExpectKey = !frames.Peek().ExpectKey;
        }
    }

    private sealed class Frame(HashSet<string>? keys)
    {
        /// <summary>Null for a sequence.</summary>
        public HashSet<string>? Keys { get; } = keys;

        public bool ExpectKey { get; set; } = true;
    }
}
