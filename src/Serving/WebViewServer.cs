using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenCvSharp;
using RealtimeMtl.Capture.Labels;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Serving;

/// <summary>
/// The live web view inside the engine (Kestrel, bound only to the given address, loopback by default):
///   /            page with the live annotated stream, class legend, stats and layout/alpha/colormap controls
///   /stream.mjpg MJPEG (multipart/x-mixed-replace); each viewer takes the newest frame it can; viewers are capped
///   /api/stats   JSON stats;  /api/render (POST) changes layout, alpha, colormap;  /metrics Prometheus text
/// Every other path is 404 (no file serving); request bodies over 4 KiB are rejected. As a sink it is lossy:
/// a slow viewer never slows inference.
/// </summary>
public sealed class WebViewServer : IFrameSink
{
    private readonly ServeOptions _options;
    private readonly PipelineStats _stats;
    private readonly LabelSet _labels;
    private readonly ClassStatistics _classStats;
    private readonly IRenderControl? _control;
    private readonly EngineMetrics? _metrics;
    // Each MJPEG viewer's newest-wins queue (one frame: a viewer that falls behind skips to the newest).
    private readonly List<NewestWins<byte[]>> _viewerQueues = [];
    private readonly Lock _viewerGate = new();
    private byte[]? _lastJpeg;
    private readonly ImageEncodingParam[] _jpeg = [new(ImwriteFlags.JpegQuality, 80)];
    private WebApplication? _app;
    private int _viewers;
    private volatile object _classes = Array.Empty<object>();

    public WebViewServer(ServeOptions options, PipelineStats stats, LabelSet labels, IRenderControl? control, EngineMetrics? metrics)
    {
        _options = options;
        _stats = stats;
        _labels = labels;
        _classStats = new ClassStatistics(labels.Count);
        _control = control;
        _metrics = metrics;
    }

    public string Name => "web";
    public bool Lossless => false;
    public int Viewers => Volatile.Read(ref _viewers);
    public bool Wanted => Viewers > 0;
    /// <summary>Where it listens (the bound port when port 0 was asked for).</summary>
    public System.Net.IPEndPoint Endpoint { get; private set; } = null!;

    public Uri BaseUri => new($"http://{Endpoint ?? _options.Endpoint}/");

    public async Task StartAsync()
    {
        var builder = KestrelHost.Builder(_options.Endpoint, HttpProtocols.Http1);
        builder.Services.AddRouting();
        var app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            if (RequestGuard.Refusal(ctx, Endpoint, _options.Token) is { } refused) { ctx.Response.StatusCode = refused; return; }
            if (!AccessToken.Allows(ctx, _options.Token)) { ctx.Response.StatusCode = 401; return; }
            await next(ctx);
        });
        app.MapGet("/", (HttpContext ctx) =>
        {
            // Opened with a token (query or Authorization header): the page's own requests carry it as a cookie.
            if (!string.IsNullOrEmpty(_options.Token))
                ctx.Response.Cookies.Append(AccessToken.CookieName, _options.Token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
            return Results.Content(Page(ctx.Request.Query["token"]), "text/html; charset=utf-8");
        });
        app.MapGet("/stream.mjpg", (Delegate)Stream);
        app.MapGet("/api/stats", () => Results.Json(Stats()));
        app.MapPost("/api/render", (Delegate)Render);
        app.MapGet("/metrics", async ctx =>
        {
            if (_metrics is null) { ctx.Response.StatusCode = 404; return; }
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await _metrics.WriteTextAsync(ctx.Response.Body, ctx.RequestAborted);
        });
        _app = await KestrelHost.StartAsync(app, "--serve", _options.Endpoint);
        Endpoint = KestrelHost.Bound(_app, _options.Endpoint);
    }

    private async Task Stream(HttpContext ctx)
    {
        if (Interlocked.Increment(ref _viewers) > _options.MaxViewers)
        {
            Interlocked.Decrement(ref _viewers);
            ctx.Response.StatusCode = 503;
            await ctx.Response.WriteAsync($"too many viewers (limit {_options.MaxViewers})");
            return;
        }
        try
        {
            ctx.Response.ContentType = "multipart/x-mixed-replace; boundary=frame";
            ctx.Response.Headers.CacheControl = "no-cache, no-store";
            var ct = ctx.RequestAborted;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var queue = new NewestWins<byte[]>(1);
            lock (_viewerGate)
            {
                _viewerQueues.Add(queue);
                // A new viewer starts with the last frame drawn, not a blank page until the next one.
                if (_lastJpeg is { } last) queue.Offer(last);
            }
            using var leave = new ViewerRegistration(this, queue);
            while (!ct.IsCancellationRequested)
            {
                if (!await queue.Reader.WaitToReadAsync(ct)) break;
                if (!queue.Reader.TryRead(out var jpeg)) continue;
                // A viewer that takes no bytes for WriteDeadline is evicted: its slot goes to someone who reads, and
                // Kestrel's bounded response buffer is all it ever held.
                deadline.CancelAfter(_options.WriteDeadline);
                try
                {
                    var header = Encoding.ASCII.GetBytes($"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\n\r\n");
                    await ctx.Response.Body.WriteAsync(header, deadline.Token);
                    await ctx.Response.Body.WriteAsync(jpeg, deadline.Token);
                    await ctx.Response.Body.WriteAsync("\r\n"u8.ToArray(), deadline.Token);
                    await ctx.Response.Body.FlushAsync(deadline.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    _stats.ViewerEvicted();
                    ctx.Abort();
                    return;
                }
                if (!deadline.TryReset()) return;
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        finally { Interlocked.Decrement(ref _viewers); }
    }

    /// <summary>Takes a viewer's queue out of the broadcast when its stream ends.</summary>
    private sealed class ViewerRegistration(WebViewServer server, NewestWins<byte[]> queue) : IDisposable
    {
        public void Dispose()
        {
            lock (server._viewerGate) server._viewerQueues.Remove(queue);
        }
    }

    private sealed record RenderRequest(string? Layout, double? Alpha, string? Colormap);

    private async Task<IResult> Render(HttpContext ctx)
    {
        if (_control is null) return Results.NotFound();
        RenderRequest? req;
        try { req = await JsonSerializer.DeserializeAsync<RenderRequest>(ctx.Request.Body, JsonOptions, ctx.RequestAborted); }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) { return Results.StatusCode(e.StatusCode); } // e.g. 413 body too large
        catch (JsonException) { return Results.BadRequest(new { error = "body must be JSON like {\"layout\":\"side\",\"alpha\":0.5,\"colormap\":\"turbo\"}" }); }
        if (req is null) return Results.BadRequest();
        try { _control.Set(req.Layout, req.Alpha, req.Colormap); }
        catch (ArgumentException e) { return Results.BadRequest(new { error = e.Message }); }
        return Results.Json(new { layout = _control.Layout, alpha = _control.Alpha, colormap = _control.Colormap });
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    public object Stats()
    {
        var q = _stats.QualitySnapshot();
        double? F(double v) => double.IsFinite(v) ? Math.Round(v, 4) : null;
        return new
        {
            frames = _stats.FramesOut,
            fps = F(_stats.RecentFps),
            fps_run = F(_stats.Fps),
            latency_ms = new { end_to_end = F(_stats.EndToEnd.Last), p50 = F(_stats.EndToEnd.Percentile(50)), p95 = F(_stats.EndToEnd.Percentile(95)) },
            stages_ms = new { pre = F(_stats.Pre.Last), model = F(_stats.Model.Last), post = F(_stats.Post.Last), render = F(_stats.Render.Last) },
            dropped = _stats.DroppedAtSource,
            viewers_evicted = _stats.ViewersEvicted,
            device = _stats.Device,
            model = _stats.ModelName,
            source = _stats.SourceName,
            quality = new { miou = q.SegPixels > 0 ? F(q.MeanIoU) : null, pixel_accuracy = q.SegPixels > 0 ? F(q.PixelAccuracy) : null, depth_rmse_m = q.DepthPixels > 0 ? F(q.Rmse) : null },
            render = _control is null ? null : new { layout = _control.Layout, alpha = _control.Alpha, colormap = _control.Colormap },
            classes = _classes,
            viewers = Viewers,
        };
    }

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        if (packet.Rendered is null || Viewers == 0) return ValueTask.CompletedTask;
        Cv2.ImEncode(".jpg", packet.Rendered, out var bytes, _jpeg);
        lock (_viewerGate)
        {
            _lastJpeg = bytes;
            foreach (var q in _viewerQueues) q.Offer(bytes);
        }
        if (packet.Sequence % 10 == 0)
        {
            var counts = _classStats;
            counts.Add(packet.Labels);
            _classes = Enumerable.Range(0, _labels.Count).Where(c => counts.Share(c) > 0.005)
                .Select(c => (object)new { name = _labels.Classes[c], color = _labels.Hex(c), share = Math.Round(counts.Share(c), 4) })
                .ToArray();
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await KestrelHost.StopAsync(_app);
    }

    private static string Page(string? token)
    {
        var q = string.IsNullOrEmpty(token) ? "" : "?token=" + Uri.EscapeDataString(token);
        return PageTemplate.Replace("{{Q}}", q).Replace("{{T}}", string.IsNullOrEmpty(token) ? "" : Uri.EscapeDataString(token));
    }

    /// <summary>The page, Web/index.html, embedded in the assembly ({{Q}}: the token query of its requests, {{T}}: the token).</summary>
    private static readonly string PageTemplate = ReadPage();

    private static string ReadPage()
    {
        using var stream = typeof(WebViewServer).Assembly.GetManifestResourceStream("RealtimeMtl.Serving.Web.index.html")
            ?? throw new InvalidOperationException("the web page resource is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
