namespace SecureDra.Kube.Client;

/// <summary>
/// Splits a watch stream into newline-delimited lines as bytes arrive, never holding more than
/// the line limit: a server that sends an endless line gets an error, not our memory.
/// </summary>
internal sealed class WatchLineReader(Stream stream, int maxLineBytes)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly MemoryStream _line = new();
    private int _start;
    private int _end;

    /// <summary>The next line without its '\n' (a trailing '\r' removed too); null at end of stream.</summary>
    public async ValueTask<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                Append(_start, newline - _start);
                _start = newline + 1;
                return TakeLine();
            }

            Append(_start, _end - _start);
            _start = _end = 0;
            var read = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return _line.Length == 0 ? null : TakeLine();
            }

            _end = read;
        }
    }

    private void Append(int offset, int count)
    {
        if (count == 0)
        {
            return;
        }

        if (_line.Length + count > maxLineBytes)
        {
            throw new KubeApiException(System.Net.HttpStatusCode.OK, "WatchEventTooLarge", $"a watch event exceeds the limit of {maxLineBytes} bytes");
        }

        _line.Write(_buffer, offset, count);
    }

    private byte[] TakeLine()
    {
        var bytes = _line.ToArray();
        _line.SetLength(0);
        return bytes.Length > 0 && bytes[^1] == (byte)'\r' ? bytes[..^1] : bytes;
    }
}
