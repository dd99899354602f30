using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RealtimeMtl.Serving;

/// <summary>The one way the servers start and stop Kestrel: quiet logs, one endpoint, small request limits, a clear error when the port is
/// taken.</summary>
public static class KestrelHost
{
    /// <summary>A slim builder listening on <paramref name="endpoint"/> only, with the shared request limits.</summary>
    public static WebApplicationBuilder Builder(IPEndPoint endpoint, HttpProtocols protocols)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(endpoint, l => l.Protocols = protocols);
            k.Limits.MaxRequestBodySize = 4096;
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            k.Limits.MaxRequestLineSize = 4096;
            k.AddServerHeader = false;
        });
        return builder;
    }

    /// <summary>Starts the app, or disposes it and says which option's address cannot be listened on (exit 2 upstream).</summary>
    public static async Task<WebApplication> StartAsync(WebApplication app, string option, IPEndPoint endpoint)
    {
        try { await app.StartAsync(); }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new ArgumentException($"{option} {endpoint}: cannot listen there ({e.Message}); pick another port.");
        }
        return app;
    }

    /// <summary>The address a started app listens on: <paramref name="asked"/>, with the port the system chose for port 0.</summary>
    public static IPEndPoint Bound(WebApplication app, IPEndPoint asked)
    {
        if (asked.Port != 0) return asked;
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("the server reports no address");
        return new IPEndPoint(asked.Address, new Uri(first.Replace("*", "localhost", StringComparison.Ordinal)).Port);
    }

    /// <summary>Stops and disposes a started app within two seconds.</summary>
    public static async ValueTask StopAsync(WebApplication? app)
    {
        if (app is null) return;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await app.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        await app.DisposeAsync();
    }
}
