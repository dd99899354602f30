using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenCvSharp;
using RealtimeMtl.Common.Concurrency;
using RealtimeMtl.Pipeline.Labels;
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
    private readonly LabelSet _labels;
    private readonly EngineMetrics? _metrics;
    private readonly CameraView[] _views;
    private readonly ImageEncodingParam[] _jpeg = [new(ImwriteFlags.JpegQuality, 80)];
    private WebApplication? _app;
    private int _viewers;

    /// <summary>A camera the page shows: its name, its stats and the control of its renderer.</summary>
    public sealed record Camera(string Name, PipelineStats Stats, IRenderControl? Control);

    /// <summary>One camera.</summary>
    public WebViewServer(ServeOptions options, PipelineStats stats, LabelSet labels, IRenderControl? control, EngineMetrics? metrics)
        : this(options, [new Camera("cam0", stats, control)], labels, metrics) { }

    /// <summary>
    /// Several cameras on one page: /stream.mjpg is the first camera's, /stream/NAME.mjpg each camera's, and /api/stats
    /// lists them all under "cameras". This object is the first camera's sink; <see cref="CameraSink"/> gives the others'.
    /// </summary>
    public WebViewServer(ServeOptions options, IReadOnlyList<Camera> cameras, LabelSet labels, EngineMetrics? metrics)
    {
        _options = options;
        _labels = labels;
        _metrics = metrics;
        _views = cameras.Select(c => new CameraView(this, c)).ToArray();
    }

    public string Name => "web";
    public bool Lossless => false;
    public int Viewers => Volatile.Read(ref _viewers);
    public bool Wanted => _views[0].Viewers > 0;

    /// <summary>The sink of camera <paramref name="index"/> (this object for camera 0).</summary>
    public IFrameSink CameraSink(int index) => index == 0 ? this : _views[index];
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
                ctx.Response.Cookies.Append(AccessToken.CookieName, _options.Token, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict, Path = "/"
                });
            return Results.Content(Page(ctx.Request.Query["token"]), "text/html; charset=utf-8");
        });
        app.MapGet("/stream.mjpg", (HttpContext ctx) => Stream(ctx, _views[0]));
        app.MapGet("/stream/{file}", (HttpContext ctx, string file) =>
            file.EndsWith(".mjpg", StringComparison.Ordinal) && _views.FirstOrDefault(v => v.Camera.Name == file[..^5]) is { } view ? Stream(ctx,
                view) : NotFound(ctx));
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

    private static Task NotFound(HttpContext ctx)
    {
        ctx.Response.StatusCode = 404;
        return Task.CompletedTask;
    }

    private async Task Stream(HttpContext ctx, CameraView view)
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
            using var leave = view.Join(queue);
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
                    view.Camera.Stats.ViewerEvicted();
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

    /// <summary>Frames the "Classes in view" shares are counted over: the last second at 30 FPS.</summary>
    public const int ClassWindow = 30;

    /// <summary>
    /// The lossless sink of camera <paramref name="index"/> that counts its classes in view from the first frame
    /// (cheap: one histogram of the label map a frame); attach it beside <see cref="CameraSink"/>.
    /// </summary>
    public IFrameSink ClassesSink(int index) => new CameraSink("classes", true, _views[index].CountClasses, usesPicture: false);

    /// <summary>One camera's side of the page: its viewers' queues, its last picture and its classes in view.</summary>
    private sealed class CameraView(WebViewServer server, Camera camera) : IFrameSink
    {
        // Each MJPEG viewer's newest-wins queue (one frame: a viewer that falls behind skips to the newest).
        private readonly List<NewestWins<byte[]>> _queues = [];
        private readonly Lock _gate = new();
        private readonly ClassStatistics _classStats = new(server._labels.Count);
        private byte[]? _lastJpeg;
        private int _viewers;
        private readonly Mat _own = new();

        public Camera Camera => camera;
        public volatile object Classes = Array.Empty<object>();
        public int Viewers => Volatile.Read(ref _viewers);
        public string Name => "web";
        public bool Lossless => false;
        public bool Wanted => Viewers > 0;

        /// <summary>Adds a viewer's queue to the broadcast, with the last picture drawn; disposing it takes the queue out.</summary>
        public IDisposable Join(NewestWins<byte[]> queue)
        {
            Interlocked.Increment(ref _viewers);
            lock (_gate)
            {
                _queues.Add(queue);
                if (_lastJpeg is { } last) queue.Offer(last);
            }
            return new Leave(this, queue);
        }

        private sealed class Leave(CameraView view, NewestWins<byte[]> queue) : IDisposable
        {
            public void Dispose()
            {
                lock (view._gate) view._queues.Remove(queue);
                Interlocked.Decrement(ref view._viewers);
            }
        }

        public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
        {
            if (packet.Rendered is null || Viewers == 0) return ValueTask.CompletedTask;
            // The engine's picture, unless a viewer changed the web view's own renderer: then the web view draws its
            // own picture of the packet, and the engine's (which recordings and other outputs get) stays as it was.
            var picture = packet.Rendered;
            if (camera.Control is { Changed: true } control)
            {
                control.Renderer.Render(packet, _own, camera.Stats);
                picture = _own;
            }
            Cv2.ImEncode(".jpg", picture, out var bytes, server._jpeg);
            lock (_gate)
            {
                _lastJpeg = bytes;
                foreach (var q in _queues) q.Offer(bytes);
            }
            return ValueTask.CompletedTask;
        }

        // "Classes in view": each class's share of the labelled pixels over the last ClassWindow frames, counted from
        // the first frame by a lossless sink of its own (CountClasses), whether or not anyone watches.
        private readonly long[][] _window = Enumerable.Range(0, ClassWindow).Select(_ => new long[256]).ToArray();
        private readonly long[] _sum = new long[256];
        private int _counted;

        public ValueTask CountClasses(FramePacket packet)
        {
            var slot = _window[_counted % ClassWindow];
            for (var c = 0; c < 256; c++) _sum[c] -= slot[c];
            _classStats.Add(packet.Labels);
            for (var c = 0; c < 256; c++) _sum[c] += slot[c] = _classStats.Count(c);
            _counted++;
            long valid = 0;
            var labels = server._labels;
            for (var c = 0; c < labels.Count; c++) valid += _sum[c];
            if (valid > 0)
                Classes = Enumerable.Range(0, labels.Count).Select(c => (Class: c, Share: (double)_sum[c] / valid)).Where(x => x.Share > 0.005)
                    .Select(x => (object)new { name = labels.Classes[x.Class], color = labels.Hex(x.Class), share = Math.Round(x.Share, 4) })
                    .ToArray();
            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync() => ValueTask.CompletedTask;

        public ValueTask DisposeAsync()
        {
            _own.Dispose();
            (camera.Control as IDisposable)?.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed record RenderRequest(string? Layout, double? Alpha, string? Colormap);

    private async Task<IResult> Render(HttpContext ctx)
    {
        var control = _views[0].Camera.Control;
        if (control is null) return Results.NotFound();
        RenderRequest? req;
        try { req = await JsonSerializer.DeserializeAsync<RenderRequest>(ctx.Request.Body, JsonOptions, ctx.RequestAborted); }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) { return Results.StatusCode(e.StatusCode); } // e.g. 413 body too large
        catch (JsonException)
        {
            return Results.BadRequest(new
            {
                error =
            "body must be JSON like {\"layout\":\"side\",\"alpha\":0.5,\"colormap\":\"turbo\"}"
            });
        }
        if (req is null) return Results.BadRequest();
        try { control.Set(req.Layout, req.Alpha, req.Colormap); }
        catch (ArgumentException e) { return Results.BadRequest(new { error = e.Message }); }
        return Results.Json(new { layout = control.Layout, alpha = control.Alpha, colormap = control.Colormap });
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The first camera's figures, and with several cameras each camera's under "cameras".</summary>
    public object Stats()
    {
        var first = CameraStats(_views[0]);
        return _views.Length == 1 ? first : new
        {
            first.frames, first.fps, first.fps_run, first.latency_ms, first.stages_ms, first.dropped, first.viewers_evicted, first.device,
            first.model, first.source,
            first.quality, first.render, first.classes, first.classes_window_frames, first.viewers, first.camera,
            cameras = _views.Select(CameraStats).ToArray()
        };
    }

    private static CameraFigures CameraStats(CameraView view)
    {
        var stats = view.Camera.Stats;
        var control = view.Camera.Control;
        var q = stats.QualitySnapshot();
        double? F(double v) => double.IsFinite(v) ? Math.Round(v, 4) : null;
        return new CameraFigures(
            stats.FramesOut, F(stats.RecentFps), F(stats.Fps),
            new
            {
                end_to_end = F(stats.EndToEnd.Last), p50 = F(stats.EndToEnd.Percentile(50)), p95 = F(stats.EndToEnd.Percentile(95)),
                p99 = F(stats.EndToEnd.Percentile(99))
            },
            new { pre = F(stats.Pre.Last), model = F(stats.Model.Last), post = F(stats.Post.Last), render = F(stats.Render.Last) },
            stats.DroppedAtSource, stats.ViewersEvicted, stats.Device, stats.ModelName, stats.SourceName,
            new
            {
                miou = q.SegPixels > 0 ? F(q.MeanIoU) : null, pixel_accuracy = q.SegPixels > 0 ? F(q.PixelAccuracy) : null,
                depth_rmse_m = q.DepthPixels > 0 ? F(q.Rmse) : null
            },
            control is null ? null : new { layout = control.Layout, alpha = control.Alpha, colormap = control.Colormap },
            view.Classes, ClassWindow, view.Viewers, view.Camera.Name);
    }

#pragma warning disable IDE1006 // JSON names of /api/stats
    private sealed record CameraFigures(long frames, double? fps, double? fps_run, object latency_ms, object stages_ms, long dropped,
        long viewers_evicted, string device, string model,
        string source, object quality, object? render, object classes, int classes_window_frames, int viewers, string camera);
#pragma warning restore IDE1006

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken) => _views[0].WriteAsync(packet, cancellationToken);

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await KestrelHost.StopAsync(_app);
        foreach (var view in _views) await view.DisposeAsync();
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
