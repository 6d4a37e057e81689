using System.Text.Json;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// Writes one CDI spec per claim into the CDI root and nothing else there. Kind is
/// <c>k8s.&lt;driver&gt;/claim</c>; file <c>k8s.&lt;driver&gt;-claim_&lt;claimUID&gt;.json</c>
/// (the CDI library's transient-spec naming); one CDI device per GPU named
/// <c>&lt;claimUID&gt;-&lt;device&gt;</c> holding only that GPU's device node, the control nodes
/// and <c>NVIDIA_VISIBLE_DEVICES=void</c>. cdiVersion 0.6.0 is the lowest that allows
/// spec annotations. Every name derives from a validated claim UID and a device name from the
/// inventory, never from the request.
/// <para>
/// <c>void</c>, as NVIDIA's own CDI specs and DRA driver set it: the container gets its GPU through
/// the device node in this spec alone, and the NVIDIA runtime, if it runs the container, adds
/// nothing (a UUID there would make it inject that GPU a second way, outside this spec).
/// </para>
/// </summary>
public sealed class CdiSpecWriter(PipelineContext context)
{
    public const string CdiVersion = "0.6.0";
    public const string ClaimUidAnnotation = "securedra.io/claim-uid";

    /// <summary>The only NVIDIA variable a spec sets: tells the NVIDIA runtime to inject nothing itself.</summary>
    public const string NvidiaVisibleDevicesVoid = "NVIDIA_VISIBLE_DEVICES=void";

    public string Root => context.Plugin.CdiRoot;

    private const string FileSuffix = ".json";

    private string FilePrefix => $"{context.CdiVendor}-claim_";

    public string FileName(string claimUid) => FilePrefix + ClaimUid.Require(claimUid) + FileSuffix;

    /// <summary>The claim UID a spec file of ours is named after; null for any other file (the inverse of <see cref="FileName"/>).</summary>
    public string? ClaimUidOf(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return fileName.StartsWith(FilePrefix, StringComparison.Ordinal) && fileName.EndsWith(FileSuffix, StringComparison.Ordinal)
            ? fileName[FilePrefix.Length..^FileSuffix.Length]
            : null;
    }

    /// <summary>An <see cref="AtomicFile"/> temporary of one of our spec files, left by a crash mid-write.</summary>
    public bool IsLeftoverTemporary(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return fileName.StartsWith("." + FilePrefix, StringComparison.Ordinal) && fileName.EndsWith(".tmp", StringComparison.Ordinal);
    }

    public string DeviceName(string claimUid, string deviceName) => $"{ClaimUid.Require(claimUid)}-{deviceName}";

    /// <summary>The fully qualified CDI device ID, e.g. <c>k8s.gpu.nvidia.com/claim=&lt;uid&gt;-gpu-0</c>.</summary>
    public string DeviceId(string claimUid, string deviceName) => $"{context.CdiKind}={DeviceName(claimUid, deviceName)}";

    public CdiSpec Build(string claimUid, IReadOnlyList<GpuDevice> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var control = context.Options.CdiControlDeviceNodes.Select(CheckedNode).ToList();
        var cdiDevices = devices.Select(d => new CdiDevice(
            DeviceName(claimUid, d.Name),
            new CdiContainerEdits(
                [NvidiaVisibleDevicesVoid],
                [.. d.DeviceNodePaths.Select(CheckedNode).Concat(control).Distinct().Select(p => new CdiDeviceNode(p))]))).ToList();
        return new CdiSpec(CdiVersion, context.CdiKind, new Dictionary<string, string> { [ClaimUidAnnotation] = claimUid }, cdiDevices);
    }

    /// <summary>The spec's bytes as <see cref="WriteAsync"/> writes them: the same claim and devices give the same bytes.</summary>
    public byte[] Encode(string claimUid, IReadOnlyList<GpuDevice> devices) =>
        JsonSerializer.SerializeToUtf8Bytes(Build(claimUid, devices), CdiJsonContext.Default.CdiSpec);

    public async Task WriteAsync(string claimUid, IReadOnlyList<GpuDevice> devices, CancellationToken cancellationToken)
    {
        var bytes = Encode(claimUid, devices);
        Directory.CreateDirectory(Root);
        await AtomicFile.WriteAsync(Root, FileName(claimUid), bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether the claim's spec on disk is byte for byte <paramref name="expected"/>. Reads at most one byte more than
    /// expected, through a non-blocking open (a FIFO planted in its place cannot hang the caller); anything that is
    /// not a readable file with exactly those bytes is <see cref="CdiSpecOnDisk.Different"/>, and writing the spec
    /// replaces it.
    /// </summary>
    public CdiSpecOnDisk Compare(string claimUid, ReadOnlySpan<byte> expected)
    {
        var path = Path.Combine(Root, FileName(claimUid));
        if (!File.Exists(path))
        {
            return Directory.Exists(path) ? CdiSpecOnDisk.Different : CdiSpecOnDisk.Missing;
        }

        try
        {
            using var handle = PosixFileSystem.OpenReadNonBlocking(path);
            var buffer = new byte[expected.Length + 1];
            var total = 0;
            while (total < buffer.Length)
            {
                var read = RandomAccess.Read(handle, buffer.AsSpan(total), total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total == expected.Length && buffer.AsSpan(0, total).SequenceEqual(expected) ? CdiSpecOnDisk.Same : CdiSpecOnDisk.Different;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return ex is FileNotFoundException or DirectoryNotFoundException ? CdiSpecOnDisk.Missing : CdiSpecOnDisk.Different;
        }
    }

    /// <summary>Removes the claim's spec; a missing file is not an error.</summary>
    public void Delete(string claimUid)
    {
        var fileName = FileName(claimUid);
        if (Directory.Exists(Root))
        {
            AtomicFile.Delete(Root, fileName);
        }
    }

    public bool Exists(string claimUid) => File.Exists(Path.Combine(Root, FileName(claimUid)));

    private static string CheckedNode(string path)
    {
        // Device nodes come from the GPU backend and our own options; still, a spec must never
        // hand a container anything outside /dev.
        if (!path.StartsWith("/dev/", StringComparison.Ordinal) || path.Contains("/../", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"refusing device node {path} in a CDI spec: not under /dev");
        }

        return path;
    }
}
