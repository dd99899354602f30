using System.Net;
using Microsoft.AspNetCore.Http;

namespace RealtimeMtl.Serving;

/// <summary>
/// Checks that a browser cannot be turned against a server it can reach:
/// <list type="bullet">
/// <item>without a token, only loopback host names (localhost, 127.0.0.0/8, [::1]) and the address the server was
/// told to listen on are accepted in the Host header, so a DNS-rebinding page (evil.example resolving to 127.0.0.1)
/// gets 421 instead of the stream;</item>
/// <item>a state-changing request (POST) must carry a JSON content type (415 otherwise: a cross-origin form or
/// text/plain POST needs no CORS preflight, JSON does), and an Origin header, when present, must be the server's
/// own (403 otherwise). Clients that are not browsers send no Origin and are not affected.</item>
/// </list>
/// </summary>
public static class RequestGuard
{
    public static int? Refusal(HttpContext context, IPEndPoint endpoint, string? token)
    {
        var host = context.Request.Host;
        if (string.IsNullOrEmpty(token) && !HostAllowed(host.Host, endpoint)) return StatusCodes.Status421MisdirectedRequest;
        if (!HttpMethods.IsPost(context.Request.Method) && !HttpMethods.IsPut(context.Request.Method)
            && !HttpMethods.IsDelete(context.Request.Method))
            return null;
        var type = context.Request.ContentType ?? "";
        if (!type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)) return StatusCodes.Status415UnsupportedMediaType;
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !SameOrigin(origin, context.Request.Scheme, host)) return StatusCodes.Status403Forbidden;
        return null;
    }

    /// <summary>Loopback names, or the literal address the server listens on (a named non-loopback address).</summary>
    public static bool HostAllowed(string host, IPEndPoint endpoint)
    {
        if (host.Length == 0) return false;
        var bare = host.Trim('[', ']');
        if (bare.Equals("localhost", StringComparison.OrdinalIgnoreCase) || bare.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return
            true;
        if (!IPAddress.TryParse(bare, out var ip)) return false;
        if (IPAddress.IsLoopback(ip)) return true;
        return !endpoint.Address.Equals(IPAddress.Any) && !endpoint.Address.Equals(IPAddress.IPv6Any) ? ip.Equals(endpoint.Address) : true;
    }

    private static bool SameOrigin(string origin, string scheme, HostString host) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var o)
        && o.Scheme.Equals(scheme, StringComparison.OrdinalIgnoreCase)
        && o.Authority.Equals(host.Value, StringComparison.OrdinalIgnoreCase);
}
