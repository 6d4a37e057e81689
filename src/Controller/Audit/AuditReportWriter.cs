using System.Text;
using System.Text.Json;

namespace SecureDra.Controller.Audit;

/// <summary>Renders findings as an aligned text table or as JSON (one object per finding, stable field names).</summary>
public static class AuditReportWriter
{
    public static string Table(IReadOnlyList<AuditFinding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        if (findings.Count == 0)
        {
            return "No findings: the cluster matches the SecureDra hardening baseline.\n";
        }

        var rows = findings.Select(f => new[] { f.Severity.ToString().ToUpperInvariant(), f.Check, f.Object.ToString(), f.Message }).ToList();
        string[] header = ["SEVERITY", "CHECK", "OBJECT", "MESSAGE"];
        var widths = Enumerable.Range(0, 3).Select(i => rows.Select(r => r[i].Length).Append(header[i].Length).Max()).ToArray();
        var sb = new StringBuilder();
        foreach (var row in rows.Prepend(header))
        {
            for (var i = 0; i < 3; i++)
            {
                sb.Append(row[i].PadRight(widths[i] + 2));
            }

            sb.Append(row[3]).Append('\n');
        }

        sb.Append(findings.Count).Append(" finding(s)\n");
        return sb.ToString();
    }

    public static string Json(IReadOnlyList<AuditFinding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("count", findings.Count);
            writer.WriteStartArray("findings");
            foreach (var f in findings)
            {
                writer.WriteStartObject();
                writer.WriteString("id", f.Check);
                writer.WriteString("severity", f.Severity.ToString());
                writer.WriteStartObject("object");
                writer.WriteString("apiVersion", f.Object.ApiVersion);
                writer.WriteString("kind", f.Object.Kind);
                if (f.Object.Namespace is not null)
                {
                    writer.WriteString("namespace", f.Object.Namespace);
                }

                writer.WriteString("name", f.Object.Name);
                writer.WriteEndObject();
                writer.WriteString("message", f.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
