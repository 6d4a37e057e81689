namespace SecureDra.Kube.Client;

/// <summary>
/// A token read from a file and re-read after <c>refreshInterval</c>: bound service-account tokens
/// rotate (the kubelet rewrites the projected file well before expiry), so a token read once at
/// start would stop working after about an hour. A failed re-read keeps the last good token. A 401 makes the
/// next request re-read the file at once (the file may have rotated since the last read).
/// </summary>
public sealed class FileTokenSource : IRefreshableTokenSource, IDisposable
{
    private const int MaxTokenBytes = 64 * 1024;
    private readonly string _path;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private volatile bool _rejected;
    private long _readAtTimestamp;

    public FileTokenSource(string path, TimeSpan? refreshInterval = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
        _refreshInterval = refreshInterval ?? TimeSpan.FromMinutes(1);
        _time = timeProvider ?? TimeProvider.System;
    }

    public string Path => _path;

    public void Invalidate(string rejectedToken)
    {
        // Keeps the token itself: if the re-read fails, the last good token is still sent.
        if (_token == rejectedToken)
        {
            _rejected = true;
        }
    }

    public async ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && !_rejected && _time.GetElapsedTime(_readAtTimestamp) < _refreshInterval)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is { } again && !_rejected && _time.GetElapsedTime(_readAtTimestamp) < _refreshInterval)
            {
                return again;
            }

            try
            {
                _token = await ReadTokenAsync(cancellationToken).ConfigureAwait(false);
                _readAtTimestamp = _time.GetTimestamp();
                _rejected = false;
            }
            catch (IOException) when (_token is not null)
            {
                // Keep the last good token; the next call tries again.
            }
            catch (UnauthorizedAccessException) when (_token is not null)
            {
            }

            return _token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> ReadTokenAsync(CancellationToken cancellationToken)
    {
        var info = new FileInfo(_path);
        if (info.Exists && info.Length > MaxTokenBytes)
        {
            throw new InvalidDataException($"token file {_path} is {info.Length} bytes; the limit is {MaxTokenBytes}");
        }

        var text = await File.ReadAllTextAsync(_path, cancellationToken).ConfigureAwait(false);
        var token = text.Trim();
        if (token.Length == 0)
        {
            throw new InvalidDataException($"token file {_path} is empty");
        }

        return token;
    }

    public void Dispose() => _gate.Dispose();
}
