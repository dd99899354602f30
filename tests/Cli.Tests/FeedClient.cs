namespace RealtimeMtl.Cli.Tests;

/// <summary>The shipped Python example client (clients/python), with its stubs generated once per test run by its install.sh.</summary>
internal static class FeedClient
{
    private static readonly Lazy<string> StubDir = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "rtmtl-feed-stubs-" + Environment.ProcessId);
        var psi = new ProcessStartInfo("bash", $"clients/python/install.sh {dir}")
        {
            WorkingDirectory = Engine.Root, RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("clients/python/install.sh failed (install python3-grpcio python3-grpc-tools): "
            + err);
        return dir;
    });

    /// <summary>Arguments for python3: the client reading <paramref name="frames"/> frames from <paramref name="address"/> into <paramref
    /// name="saveDir"/>.</summary>
    public static string Args(string address, string saveDir, int frames, string extra = "") =>
        $"clients/python/feed_client.py {address} --frames {frames} --save {saveDir} --stubs {StubDir.Value} {extra}".TrimEnd();
}
