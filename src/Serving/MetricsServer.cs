using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace RealtimeMtl.Serving;

/// <summary>
/// <c>--metrics ADDR:PORT</c>: Prometheus's <c>/metrics</c> alone, without the web view, for a headless engine a
/// Prometheus server scrapes. The same rules as every endpoint: loopback unless another address is given, a token
/// (query, Bearer header or cookie) when one is set, and requests from another site refused.
/// </summary>
public sealed class MetricsServer(ServeOptions options, EngineMetrics metrics) : IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>Where it listens (the bound port when port 0 was asked for).</summary>
    public System.Net.IPEndPoint Endpoint { get; private set; } = null!;

    public async Task StartAsync()
    {
        var app = KestrelHost.Builder(options.Endpoint, HttpProtocols.Http1).Build();
        app.Run(async ctx =>
        {
            if (RequestGuard.Refusal(ctx, Endpoint, options.Token) is { } refused) { ctx.Response.StatusCode = refused; return; }
            if (!AccessToken.Allows(ctx, options.Token)) { ctx.Response.StatusCode = 401; return; }
            if (ctx.Request.Path != "/metrics" || !HttpMethods.IsGet(ctx.Request.Method))
            {
                ctx.Response.StatusCode = 404; await
                ctx.Response.WriteAsync("only GET /metrics here\n"); return;
            }
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.WriteTextAsync(ctx.Response.Body, ctx.RequestAborted);
        });
        _app = await KestrelHost.StartAsync(app, "--metrics", options.Endpoint);
        Endpoint = KestrelHost.Bound(_app, options.Endpoint);
    }

    public async ValueTask DisposeAsync() => await KestrelHost.StopAsync(_app);
}
