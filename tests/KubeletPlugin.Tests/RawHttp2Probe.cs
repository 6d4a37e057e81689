using System.Net.Sockets;
using System.Text;

namespace SecureDra.KubeletPlugin.Tests;

/// <summary>
/// A minimal HTTP/2 client that sends one gRPC request with a chosen <c>:authority</c> (.NET's
/// client always sends the URI's host), and reports whether the server answered or reset the stream.
/// </summary>
internal static class RawHttp2Probe
{
    public enum Outcome { Answered, StreamReset, ConnectionClosed }

    public static async Task<Outcome> SendAsync(string socketPath, string path, string authority, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        var output = new MemoryStream();
        output.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
        WriteFrame(output, type: 4, flags: 0, streamId: 0, []);
        var headers = new MemoryStream();
        foreach (var (name, value) in new[]
        {
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", authority),
            ("content-type", "application/grpc"), ("te", "trailers"),
        })
        {
            headers.WriteByte(0x00); // literal header field without indexing, new name
            WriteString(headers, name);
            WriteString(headers, value);
        }

        WriteFrame(output, type: 1, flags: 0x4, streamId: 1, headers.ToArray());
        WriteFrame(output, type: 0, flags: 0x1, streamId: 1, new byte[5]); // empty gRPC message, END_STREAM
        await stream.WriteAsync(output.ToArray(), cancellationToken);

        var header = new byte[9];
        while (true)
        {
            if (!await ReadExactAsync(stream, header, cancellationToken))
            {
                return Outcome.ConnectionClosed;
            }

            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var type = header[3];
            var streamId = ((header[5] & 0x7f) << 24) | (header[6] << 16) | (header[7] << 8) | header[8];
            var payload = new byte[length];
            if (!await ReadExactAsync(stream, payload, cancellationToken))
            {
                return Outcome.ConnectionClosed;
            }

            if (type == 4 && (header[4] & 0x1) == 0)
            {
                var ack = new MemoryStream();
                WriteFrame(ack, type: 4, flags: 0x1, streamId: 0, []);
                await stream.WriteAsync(ack.ToArray(), cancellationToken);
            }
            else if (streamId == 1 && type == 1)
            {
                return Outcome.Answered;
            }
            else if (streamId == 1 && type == 3)
            {
                return Outcome.StreamReset;
            }
            else if (type == 7)
            {
                return Outcome.ConnectionClosed;
            }
        }
    }

    private static void WriteString(MemoryStream target, string value)
    {
        var bytes = Encoding.ASCII.GetBytes(value);
        if (bytes.Length >= 127)
        {
            throw new ArgumentException("value too long for this probe", nameof(value));
        }

        target.WriteByte((byte)bytes.Length);
        target.Write(bytes);
    }

    private static void WriteFrame(MemoryStream target, byte type, byte flags, int streamId, byte[] payload)
    {
        target.Write([(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags,
            (byte)(streamId >> 24), (byte)(streamId >> 16), (byte)(streamId >> 8), (byte)streamId]);
        target.Write(payload);
    }

    private static async Task<bool> ReadExactAsync(NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
