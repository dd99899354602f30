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

namespace RealtimeMtl.Pipeline.Serving;

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
    private readonly IRenderControl? _control;
    private readonly EngineMetrics? _metrics;
    private readonly LatestJpeg _latest = new();
    private readonly ImageEncodingParam[] _jpeg = [new(ImwriteFlags.JpegQuality, 80)];
    private WebApplication? _app;
    private int _viewers;
    private volatile object _classes = Array.Empty<object>();

    public WebViewServer(ServeOptions options, PipelineStats stats, LabelSet labels, IRenderControl? control, EngineMetrics? metrics)
    {
        _options = options;
        _stats = stats;
        _labels = labels;
        _control = control;
        _metrics = metrics;
    }

    public string Name => "web";
    public bool Lossless => false;
    public int Viewers => Volatile.Read(ref _viewers);
    public bool Wanted => Viewers > 0;
    public Uri BaseUri => new($"http://{_options.Endpoint}/");

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(_options.Endpoint, l => l.Protocols = HttpProtocols.Http1);
            k.Limits.MaxRequestBodySize = 4096;
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            k.Limits.MaxRequestLineSize = 4096;
            k.AddServerHeader = false;
        });
        builder.Services.AddRouting();
        var app = builder.Build();
        app.Use(async (ctx, next) =>
        {
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
        try { await app.StartAsync(); }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new ArgumentException($"--serve {_options.Endpoint}: cannot listen there ({e.Message}); pick another port.");
        }
        _app = app;
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
            var seen = 0L;
            var ct = ctx.RequestAborted;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            while (!ct.IsCancellationRequested)
            {
                var (jpeg, version) = await _latest.NextAsync(seen, ct);
                seen = version;
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

    public unsafe ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        if (packet.Rendered is null || Viewers == 0) return ValueTask.CompletedTask;
        Cv2.ImEncode(".jpg", packet.Rendered, out var bytes, _jpeg);
        _latest.Publish(bytes);
        if (packet.Sequence % 10 == 0)
        {
            var counts = new long[256];
            var p = (byte*)packet.Labels.Data;
            var n = packet.Labels.Rows * packet.Labels.Cols;
            for (var i = 0; i < n; i++) counts[p[i]]++;
            _classes = Enumerable.Range(0, _labels.Count).Where(c => counts[c] > n / 200)
                .Select(c => (object)new { name = _labels.Classes[c], color = $"#{_labels.Palette[c].R:x2}{_labels.Palette[c].G:x2}{_labels.Palette[c].B:x2}", share = Math.Round((double)counts[c] / n, 4) })
                .ToArray();
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await AccessToken.StopAsync(_app);
    }

    private static string Page(string? token)
    {
        var q = string.IsNullOrEmpty(token) ? "" : "?token=" + Uri.EscapeDataString(token);
        return PageTemplate.Replace("{{Q}}", q).Replace("{{T}}", string.IsNullOrEmpty(token) ? "" : Uri.EscapeDataString(token));
    }

    private const string PageTemplate = """
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RealtimeMtl live</title>
<style>
body{font-family:system-ui,sans-serif;background:#111;color:#eee;margin:16px}
#stream{max-width:100%;border:1px solid #333;display:block}
.row{display:flex;gap:24px;flex-wrap:wrap;margin-top:12px}
.box{background:#1c1c1c;padding:10px 14px;border-radius:6px}
.sw{display:inline-block;width:12px;height:12px;margin-right:6px;border:1px solid #999;vertical-align:middle}
td{padding:1px 8px 1px 0} label{margin-right:12px}
</style></head><body>
<h3>RealtimeMtl: segmentation + depth, live</h3>
<img id="stream" src="/stream.mjpg{{Q}}" alt="live annotated stream">
<div class="row">
 <div class="box"><b>Stats</b><table id="stats">
  <tr><td>FPS</td><td id="fps">-</td></tr><tr><td>latency</td><td id="lat">-</td></tr>
  <tr><td>stages</td><td id="stages">-</td></tr><tr><td>dropped</td><td id="dropped">-</td></tr>
  <tr><td>device</td><td id="device">-</td></tr><tr><td>frames</td><td id="frames">-</td></tr>
  <tr><td>live quality</td><td id="quality">-</td></tr></table></div>
 <div class="box"><b>Classes in view</b><div id="legend"></div></div>
 <div class="box"><b>Controls</b><br>
  <label>layout <select id="layout"><option>overlay</option><option>side</option><option>quad</option></select></label>
  <label>alpha <input id="alpha" type="range" min="0" max="1" step="0.05"></label>
  <label>colormap <select id="colormap"><option>turbo</option><option>inferno</option><option>jet</option><option>gray</option></select></label>
  <div>depth colour bar (metres) is drawn on the depth panel</div></div>
</div>
<script>
const T = "{{T}}";
const q = T ? ("?token=" + T) : "";
const $ = id => document.getElementById(id);
const fmt = (v, d) => v === null || v === undefined ? "-" : Number(v).toFixed(d);
async function refresh() {
  try {
    const s = await (await fetch("/api/stats" + q)).json();
    $("fps").textContent = fmt(s.fps, 1);
    $("lat").textContent = fmt(s.latency_ms.end_to_end, 1) + " ms (p95 " + fmt(s.latency_ms.p95, 1) + ")";
    $("stages").textContent = "pre " + fmt(s.stages_ms.pre,1) + " / model " + fmt(s.stages_ms.model,1) + " / post " + fmt(s.stages_ms.post,1) + " / render " + fmt(s.stages_ms.render,1) + " ms";
    $("dropped").textContent = s.dropped; $("device").textContent = s.device + " (" + s.model + ")"; $("frames").textContent = s.frames;
    $("quality").textContent = s.quality.miou === null ? "n/a" : ("mIoU " + fmt(s.quality.miou * 100, 1) + " %, RMSE " + fmt(s.quality.depth_rmse_m, 3) + " m");
    $("legend").innerHTML = s.classes.map(c => '<div><span class="sw" style="background:' + c.color + '"></span>' + c.name + " " + fmt(c.share * 100, 1) + " %</div>").join("");
    if (s.render && document.activeElement.tagName !== "SELECT" && document.activeElement.tagName !== "INPUT") {
      $("layout").value = s.render.layout; $("alpha").value = s.render.alpha; $("colormap").value = s.render.colormap;
    }
  } catch (e) { }
}
async function apply() {
  await fetch("/api/render" + q, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ layout: $("layout").value, alpha: Number($("alpha").value), colormap: $("colormap").value }) });
  refresh();
}
["layout", "alpha", "colormap"].forEach(id => $(id).addEventListener("change", apply));
setInterval(refresh, 500); refresh();
</script></body></html>
""";
}
