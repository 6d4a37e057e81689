using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SecureDra.Controller.Webhook;

/// <summary>
/// The HTTP side of the webhook: POST with a JSON body only, bounded size, bounded read time, then hands the
/// bytes to <see cref="AdmissionReviewProcessor"/>. Every failure is an HTTP status with a one-line reason.
/// </summary>
public sealed class AdmissionWebhookEndpoint(
    AdmissionReviewProcessor processor,
    AdmissionWebhookOptions options,
    AdmissionBodyBuffers buffers,
    TimeProvider timeProvider,
    ILogger<AdmissionWebhookEndpoint> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, $"method {request.Method} is not allowed; the webhook accepts POST").ConfigureAwait(false);
            return;
        }

        if (!IsJson(request.ContentType))
        {
            await WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, $"Content-Type '{request.ContentType}' is not supported; send application/json").ConfigureAwait(false);
            return;
        }

        if (request.ContentLength > options.MaxBodyBytes)
        {
            await WriteTooLargeAsync(context, request.ContentLength.Value).ConfigureAwait(false);
            return;
        }

        using var readTimeout = new CancellationTokenSource(options.BodyReadTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(readTimeout.Token, context.RequestAborted);
        byte[]? buffer;
        int length;
        try
        {
            (buffer, length) = await BoundedBodyReader.ReadAsync(request.Body, request.ContentLength, buffers, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (readTimeout.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            ControllerLog.AdmissionBodyTimeout(logger, context.Connection.RemoteIpAddress?.ToString(), options.BodyReadTimeout);
            CloseAfterResponse(context);
            await WriteErrorAsync(context, StatusCodes.Status408RequestTimeout, $"request body not received within {options.BodyReadTimeout.TotalSeconds:0.###} s").ConfigureAwait(false);
            return;
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits (MinRequestBodyDataRate, MaxRequestBodySize) fire here.
            CloseAfterResponse(context);
            await WriteErrorAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
            return;
        }

        if (buffer is null)
        {
            await WriteTooLargeAsync(context, options.MaxBodyBytes + 1L).ConfigureAwait(false);
            return;
        }

        // The outcome holds no reference into the buffer, so it goes back before the answer is written.
        AdmissionOutcome outcome;
        try
        {
            outcome = processor.Process(buffer.AsMemory(0, length));
        }
        finally
        {
            buffers.Return(buffer);
        }

        if (outcome.Review is null)
        {
            await WriteErrorAsync(context, outcome.HttpStatus, outcome.Error ?? "bad request").ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        outcome.Review.WriteTo(writer);
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private Task WriteTooLargeAsync(HttpContext context, long length)
    {
        CloseAfterResponse(context);
        return WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body of {(length > options.MaxBodyBytes ? "more than " : "")}{options.MaxBodyBytes} bytes exceeds the limit of {options.MaxBodyBytes} bytes");
    }

    /// <summary>HTTP/1.1 only: HTTP/2 has no Connection header, and Kestrel resets the stream itself.</summary>
    private static void CloseAfterResponse(HttpContext context)
    {
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            context.Response.Headers.Connection = "close";
        }
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) &&
        string.Equals(parsed.MediaType, "application/json", StringComparison.OrdinalIgnoreCase);

    private static async Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted).ConfigureAwait(false);
    }
}
