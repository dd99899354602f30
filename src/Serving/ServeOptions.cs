using System.Net;

namespace RealtimeMtl.Serving;

/// <summary>Where a server listens and who may use it. Loopback unless the user names another address.</summary>
public sealed record ServeOptions
{
    public IPEndPoint Endpoint { get; init; } = new(IPAddress.Loopback, 8080);
    /// <summary>A viewer that takes no bytes for this long is evicted (its slot freed).</summary>
    public TimeSpan WriteDeadline { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>When set, every request must carry ?token=... or "Authorization: Bearer ...".</summary>
    public string? Token { get; init; }
    public int MaxViewers { get; init; } = 8;

    /// <summary>
    /// Parses "127.0.0.1:8080", ":8080" or "8080" (both loopback), "0.0.0.0:8080", "[::1]:8080". Port 0 given
    /// explicitly ("127.0.0.1:0", ":0") asks the system for a free port; the server prints the port it bound.
    /// </summary>
    public static IPEndPoint ParseEndpoint(string text, int defaultPort)
    {
        text = text.Trim();
        if (text.EndsWith(":0", StringComparison.Ordinal) && (text == ":0" || IPEndPoint.TryParse(text, out _) || text.StartsWith("localhost:",
            StringComparison.OrdinalIgnoreCase)))
        {
            var host = text[..^2];
            var address = host.Length == 0 || host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
                : IPAddress.Parse(host.Trim('[', ']'));
            return new IPEndPoint(address, 0);
        }
        if (int.TryParse(text, out var onlyPort)) return new IPEndPoint(IPAddress.Loopback, Check(onlyPort, text));
        if (text.StartsWith(':') && int.TryParse(text[1..], out var p2)) return new IPEndPoint(IPAddress.Loopback, Check(p2, text));
        if (IPEndPoint.TryParse(text, out var ep))
        {
            if (ep.Port == 0) ep.Port = defaultPort;
            return ep;
        }
        if (text.StartsWith("localhost", StringComparison.OrdinalIgnoreCase))
        {
            var port = text.Contains(':') && int.TryParse(text[(text.IndexOf(':') + 1)..], out var p3) ? p3 : defaultPort;
            return new IPEndPoint(IPAddress.Loopback, Check(port, text));
        }
        throw new ArgumentException($"'{text}' is not an address:port (e.g. 127.0.0.1:{defaultPort}).");
    }

    private static int Check(int port, string text) =>
        port is > 0 and < 65536 ? port : throw new ArgumentException($"'{text}': port must be 1-65535.");
}
