using System.Text;

namespace RealtimeMtl.Cli.Tests;

/// <summary>Finds the repository, the built rtmtl, the shipped model and Debian tools; runs rtmtl as a user would.</summary>
internal static class Engine
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RealtimeMtl.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    public static string ShippedModel => Path.Combine(Root, "models", "mtl_ssw_light.onnx");

    /// <summary>True when these tests were built for the GPU flavour (-p:RtmtlGpu=true) and run its rtmtl.</summary>
    public static bool GpuFlavour =>
#if RTMTL_GPU
        true;
#else
        false;
#endif

    public static string Dll
    {
        get
        {
            foreach (var cfg in new[] { "Release", "Debug" })
            {
                var p = Path.Combine(Root, "src", "Cli", GpuFlavour ? "bin-gpu" : "bin", cfg, "net10.0", "rtmtl.dll");
                if (File.Exists(p)) return p;
            }
            throw new InvalidOperationException("rtmtl.dll is not built; run ./rtmtl build");
        }
    }

    public static string Tool(string name, string package)
    {
        var p = Path.Combine("/usr/bin", name);
        if (!File.Exists(p)) throw new InvalidOperationException($"{name} is missing: install the Debian package '{package}' (./rtmtl test " +
            $"installs it).");
        return p;
    }

    public sealed record Result(int Code, string Stdout, string Stderr);

    public static Result Run(string args, int timeoutMs = 180_000) => RunAsync(args, null, timeoutMs).GetAwaiter().GetResult();

    /// <summary>
    /// Starts rtmtl; <paramref name="whileRunning"/> gets the process (to signal it) once stderr shows the readiness
    /// line, <c>first frame out</c>: frames flow. Tests that need more wait on a condition (<see cref="Until"/>), never a sleep.
    /// </summary>
    public static Task<Result> RunAsync(string args, Func<Process, Task>? whileRunning, int timeoutMs = 180_000, IReadOnlyDictionary<string,
        string>? environment = null, string? workingDirectory = null) =>
        RunCoreAsync(args, whileRunning is null ? null : (p, _) => whileRunning(p), timeoutMs, environment, workingDirectory);

    /// <summary>As <see cref="RunAsync(string, Func{Process, Task}?, int, IReadOnlyDictionary{string, string}?, string?)"/>, and the callback can
    /// read stderr so far.</summary>
    public static Task<Result> RunWatchingAsync(string args, Func<Process, Func<string>, Task> whileRunning, int timeoutMs = 180_000,
        IReadOnlyDictionary<string, string>? environment = null) =>
        RunCoreAsync(args, whileRunning, timeoutMs, environment, null);

    /// <summary>Waits until <paramref name="condition"/> holds (checked every 50 ms); fails the test naming <paramref name="what"/> after the
    /// timeout.</summary>
    public static async Task Until(Func<bool> condition, string what, int timeoutMs = 60_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"waited {timeoutMs / 1000} s for {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>Files a --save-raw folder holds for processed frames (one JSON each); 0 before it exists.</summary>
    public static int RawFrames(string dir) => Directory.Exists(dir) ? Directory.GetFiles(dir, "*.json").Length : 0;

    /// <summary>
    /// Starts rtmtl with servers on port 0 (the system picks free ports, so parallel tests never race for one);
    /// <paramref name="whileRunning"/> gets the process and the ports the engine printed that it bound.
    /// </summary>
    public static Task<Result> ServeAsync(string args, Func<Process, BoundPorts, Task> whileRunning, int timeoutMs = 180_000) =>
        RunCoreAsync(args, (p, stderr) => whileRunning(p, BoundPorts.From(stderr())), timeoutMs, null, null);

    /// <summary>The ports rtmtl printed for --serve, --feed, --foxglove and --metrics (-1 where that server is not running).</summary>
    public sealed record BoundPorts(int Web, int Feed, int Foxglove, int Metrics = -1)
    {
        public static BoundPorts From(string stderr)
        {
            int Find(string pattern) => System.Text.RegularExpressions.Regex.Match(stderr, pattern) is { Success: true } m
                ? int.Parse(m.Groups[1].Value) : -1;
            return new BoundPorts(Find(@"web view: http://[^:/\s]+:(\d+)/"), Find(@"feed: gRPC \(h2c\) at [^:\s]+:(\d+)"),
                Find(@"foxglove: ws://[^:/\s]+:(\d+)"), Find(@"metrics: http://[^:/\s]+:(\d+)/metrics"));
        }
    }

    private static async Task<Result> RunCoreAsync(string args, Func<Process, Func<string>, Task>? whileRunning, int timeoutMs,
        IReadOnlyDictionary<string, string>? environment, string? workingDirectory)
    {
        var psi = new ProcessStartInfo("dotnet", $"\"{Dll}\" {args}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Root
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var running = new TaskCompletionSource();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (e.Data.StartsWith("first frame out ")) running.TrySetResult();
        };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (whileRunning is not null)
        {
            var started = await Task.WhenAny(running.Task, p.WaitForExitAsync(), Task.Delay(timeoutMs));
            if (started == running.Task) await whileRunning(p, () => { lock (stderr) return stderr.ToString(); });
        }
        using var cts = new CancellationTokenSource(timeoutMs);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw new TimeoutException($"rtmtl {args} did not finish: {stderr}"); }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Frames and rate of a video as ffprobe counts them (decoding every frame).</summary>
    public static (int Frames, double Fps) Probe(string path)
    {
        var ffprobe = Tool("ffprobe", "ffmpeg");
        var psi = new ProcessStartInfo(ffprobe, $"-v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,r_frame_rate -of " +
            $"default=nw=1 \"{path}\"")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ffprobe could not read {path}: {err}");
        var fields = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=')).ToDictionary(a => a[0], a => a[1]);
        var rate = fields["r_frame_rate"].Split('/');
        return (int.Parse(fields["nb_read_frames"]), double.Parse(rate[0]) / double.Parse(rate[1]));
    }

    public static string Temp(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "rtmtl-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    public static int FreePort() => RealtimeMtl.Tests.Shared.LoopbackPorts.Free();
    public static bool IsListening(int port) => RealtimeMtl.Tests.Shared.LoopbackPorts.IsListening(port);

    /// <summary>From the summary's record line: frames in the file, and processed frames written (each once).</summary>
    public static (int InFile, int Processed) Recorded(string stdout)
    {
        var m = System.Text.RegularExpressions.Regex.Match(stdout,
            @"^record  .*: (\d+) frames at .*; (\d+) processed frames written, \d+ repeated, (\d+) skipped",
                System.Text.RegularExpressions.RegexOptions.Multiline);
        if (!m.Success) throw new InvalidOperationException("no record line in the summary: " + stdout);
        // Written counts each processed frame that went into the file; a live frame that came too early for the time
        // grid is skipped and counted as such: together they are every processed frame.
        return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value) + int.Parse(m.Groups[3].Value));
    }

    public static int SummaryFrames(string stdout)
    {
        var line = stdout.Split('\n').First(l => l.StartsWith("frames "));
        return int.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }
}
