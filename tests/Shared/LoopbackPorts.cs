using System.Globalization;

namespace RealtimeMtl.Tests.Shared;

/// <summary>Loopback ports for tests that start servers (linked into the test projects that need it).</summary>
internal static class LoopbackPorts
{
    public static int Free()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>True when something listens on 127.0.0.1:port, read from /proc without connecting (a one-client server stays free).</summary>
    public static bool IsListening(int port)
    {
        var hex = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/net/tcp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(p => p.Length > 3 && p[1].EndsWith(hex) && p[3] == "0A");
    }
}
