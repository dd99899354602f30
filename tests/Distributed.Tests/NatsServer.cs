using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Distributed.Tests;

/// <summary>
/// A real nats-server (Debian's package) with JetStream, on a port it picks itself (-p -1, read back from its log, so
/// parallel tests never race for a port), a temporary store and token authentication. It can be stopped and started
/// again on the same port and store.
/// </summary>
public sealed partial class NatsServer : IAsyncDisposable
{
    public const string Token = "test-token-1234";
    private Process? _process;
    private readonly StringBuilder _log = new();

    private readonly string _extra;
    private readonly bool _tls;

    private NatsServer(string store, string extra, bool tls)
    {
        Store = store;
        _extra = extra;
        _tls = tls;
    }

    public string Store { get; }
    public int Port { get; private set; }
    public string Url => $"{(_tls ? "tls" : "nats")}://127.0.0.1:{Port}";
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static string Executable()
    {
        foreach (var dir in new[] { "/usr/sbin", "/usr/bin", "/usr/local/bin" })
            if (File.Exists(Path.Combine(dir, "nats-server"))) return Path.Combine(dir, "nats-server");
        throw new InvalidOperationException("nats-server is missing: install the Debian package 'nats-server' (./rtmtl test installs it).");
    }

    /// <summary>Starts a server; <paramref name="tls"/>: require TLS with this certificate and key (PEM files).</summary>
    public static async Task<NatsServer> StartAsync((string Cert, string Key)? tls = null)
    {
        var extra = tls is { } t ? $"--tls --tlscert \"{t.Cert}\" --tlskey \"{t.Key}\"" : "";
        var server = new NatsServer(Directory.CreateTempSubdirectory("rtmtl-nats-").FullName, extra, tls is not null);
        await server.StartProcessAsync(-1);
        return server;
    }

    [GeneratedRegex(@"Listening for client connections on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();

    private async Task StartProcessAsync(int port)
    {
        var psi = new ProcessStartInfo(Executable(), $"-js -sd \"{Store}\" -a 127.0.0.1 -p {port} --auth {Token} {_extra}")
        {
            RedirectStandardError =
            true, RedirectStandardOutput = true
        };
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var p = new Process { StartInfo = psi };
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null) return;
            lock (_log) _log.AppendLine(e.Data);
            var m = ListeningLine().Match(e.Data);
            if (m.Success) Port = int.Parse(m.Groups[1].Value);
            if (e.Data.Contains("Server is ready")) ready.TrySetResult(Port);
        };
        p.ErrorDataReceived += onLine;
        p.OutputDataReceived += onLine;
        p.Start();
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        _process = p;
        var done = await Task.WhenAny(ready.Task, p.WaitForExitAsync(), Task.Delay(20_000));
        if (done != ready.Task) throw new InvalidOperationException($"nats-server did not become ready: {Log}");
    }

    /// <summary>Stops the server (SIGTERM, as a service manager would) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } p) return;
        Signals.Require(p.Id, Signals.SIGTERM);
        using var cts = new CancellationTokenSource(15_000);
        try { await p.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { p.Kill(); }
    }

    /// <summary>Starts it again on the same port and store.</summary>
    public Task RestartAsync() => StartProcessAsync(Port);

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } p) { p.Kill(); await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)); }
        try { Directory.Delete(Store, recursive: true); } catch (IOException) { }
    }
}
