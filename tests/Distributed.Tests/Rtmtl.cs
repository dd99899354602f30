using System.Diagnostics;
using System.Text;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Distributed.Tests;

/// <summary>The built rtmtl, run as a user runs it: one-shot commands, or long-running workers the test can signal.</summary>
public sealed class Rtmtl : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> _waits = [];

    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RealtimeMtl.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    public static string Dll
    {
        get
        {
            foreach (var cfg in new[] { "Release", "Debug" })
            {
                var p = Path.Combine(Root, "src", "Cli", "bin", cfg, "net10.0", "rtmtl.dll");
                if (File.Exists(p)) return p;
            }
            throw new InvalidOperationException("rtmtl.dll is not built; run ./rtmtl build");
        }
    }

    private Rtmtl(string args, string workingDirectory)
    {
        var psi = new ProcessStartInfo("dotnet", $"\"{Dll}\" {args}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = workingDirectory
        };
        psi.Environment["RTMTL_MODEL"] = Path.Combine(Root, "models", "mtl_ssw_light.onnx");
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
                foreach (var (match, seen) in _waits) if (match(e.Data)) seen.TrySetResult();
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;
    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public bool HasExited => _process.HasExited;

    public static Rtmtl Start(string args, string workingDirectory) => new(args, workingDirectory);

    public sealed record Result(int Code, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(string args, string workingDirectory, int timeoutMs = 120_000)
    {
        await using var r = Start(args, workingDirectory);
        var code = await r.WaitForExitAsync(timeoutMs);
        return new Result(code, r.Stdout, r.Stderr);
    }

    /// <summary>Waits until a stderr line matches (a readiness line, not a sleep).</summary>
    public async Task WaitForLineAsync(Func<string, bool> match, int timeoutMs = 60_000)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stderr)
        {
            if (_stderr.ToString().Split('\n').Any(l => match(l.TrimEnd('\r')))) return;
            _waits.Add((match, seen));
        }
        var done = await Task.WhenAny(seen.Task, _process.WaitForExitAsync(), Task.Delay(timeoutMs));
        if (done != seen.Task) throw new TimeoutException($"no such line from rtmtl (exited: {_process.HasExited}); stderr:\n{Stderr}");
    }

    public void Signal(int signal) => Signals.Require(_process.Id, signal);

    public async Task<int> WaitForExitAsync(int timeoutMs = 120_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            _process.Kill(true);
            throw new TimeoutException($"rtmtl {_process.StartInfo.Arguments} did not finish; stderr:\n{Stderr}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
    }
}
