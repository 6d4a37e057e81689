using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace SecureDra.Controller.Webhook;

/// <summary>
/// Holds the webhook's serving certificate read from PEM files and swaps it when the files change, so a rotated
/// Secret (cert-manager, kubelet's atomic ..data symlink swap) takes effect on the next TLS handshake without a
/// restart. Polls file contents rather than relying on inotify, which misses symlink swaps on projected volumes.
/// A half-written or invalid pair is ignored: the previous certificate keeps serving.
/// </summary>
public sealed class PemCertificateReloader : IDisposable
{
    /// <summary>A certificate chain with its key is a few KiB; anything near this is not a certificate file.</summary>
    private const long MaxPemBytes = 1024 * 1024;

    private readonly string _certPath;
    private readonly string _keyPath;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private X509Certificate2 _current;
    private byte[] _fingerprint;

    public PemCertificateReloader(string certPath, string keyPath, TimeSpan pollInterval, TimeProvider timeProvider, ILogger<PemCertificateReloader> logger)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _certPath = certPath;
        _keyPath = keyPath;
        _logger = logger;
        // The first load must succeed: a webhook without a certificate cannot serve anything.
        (_current, _fingerprint) = Load() ?? throw new InvalidOperationException(
            $"--tls-cert-file {certPath} / --tls-private-key-file {keyPath}: cannot read a PEM certificate and matching private key");
        _timer = timeProvider.CreateTimer(_ => TryReload(), null, pollInterval, pollInterval);
    }

    /// <summary>The certificate presented on the next handshake (ServerCertificateSelector).</summary>
    public X509Certificate2 Current
    {
        get { lock (_lock) { return _current; } }
    }

    /// <summary>Checks the files now; true when a new certificate was loaded.</summary>
    public bool TryReload()
    {
        (X509Certificate2 Certificate, byte[] Fingerprint)? loaded;
        try
        {
            if (SameFingerprint(ReadFingerprint()))
            {
                return false;
            }

            loaded = Load();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            ControllerLog.WebhookCertificateUnreadable(_logger, e);
            return false;
        }

        if (loaded is null)
        {
            return false;
        }

        lock (_lock)
        {
            // The previous certificate may still be in use by a handshake in flight; let the GC finalize it.
            _current = loaded.Value.Certificate;
            _fingerprint = loaded.Value.Fingerprint;
        }

        ControllerLog.WebhookCertificateReloaded(_logger,
            loaded.Value.Certificate.Subject, loaded.Value.Certificate.NotAfter.ToUniversalTime(), loaded.Value.Certificate.Thumbprint);
        return true;
    }

    public void Dispose() => _timer.Dispose();

    private bool SameFingerprint(byte[] fingerprint)
    {
        lock (_lock) { return CryptographicOperations.FixedTimeEquals(_fingerprint, fingerprint); }
    }

    private (X509Certificate2 Certificate, byte[] Fingerprint)? Load()
    {
        try
        {
            var fingerprint = ReadFingerprint();
            var certificate = X509Certificate2.CreateFromPem(ReadBounded(_certPath), ReadBounded(_keyPath));
            if (!certificate.HasPrivateKey)
            {
                ControllerLog.WebhookCertificateWithoutKey(_logger, _certPath, _keyPath);
                return null;
            }

            return (certificate, fingerprint);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            // The message names the problem (missing file, bad PEM, key mismatch); a stack trace adds nothing for an operator.
            ControllerLog.WebhookCertificateNotLoaded(_logger, _certPath, _keyPath, e.Message.ReplaceLineEndings(" "));
            return null;
        }
    }

    private byte[] ReadFingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(ReadBounded(_certPath)));
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(ReadBounded(_keyPath)));
        return hash.GetHashAndReset();
    }

    private static string ReadBounded(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{path} does not exist", path);
        }

        if (info.Length > MaxPemBytes)
        {
            throw new IOException($"{path} is {info.Length} bytes; a PEM certificate or key file is at most {MaxPemBytes}");
        }

        return File.ReadAllText(path);
    }
}
