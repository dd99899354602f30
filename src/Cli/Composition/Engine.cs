using RealtimeMtl.Cli.Commands;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Distributed.Bus;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Sinks.Recording;

namespace RealtimeMtl.Cli.Composition;

/// <summary>How a run ended: the exit code, why it failed (null when it did not) and the summary (null when it never started).</summary>
/// <remarks>Exit codes: 0 done, 2 bad input or options (nothing started), 3 a source, stage or sink failed mid-run (outputs finalised).</remarks>
public sealed record EngineResult(int ExitCode, string? Failure, RunSummary? Summary)
{
    /// <summary>Refused before anything ran: a source that cannot open, a bad option, a model that does not fit.</summary>
    public static EngineResult BadInput(string reason) => new(2, reason, null);
}

/// <summary>
/// An engine as <see cref="EngineBuilder"/> assembled it: the pipeline with its cameras, sinks and servers, ready to
/// run once. It owns what the builder opened (sources, sinks, servers, the model it loaded) and disposes them.
/// </summary>
public sealed class Engine : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned;
    private readonly IReadOnlyList<VideoRecorderSink?> _recorders;
    private readonly IReadOnlyList<NatsFramePublisher> _publishers;
    private readonly (VideoRecorderSink Recorder, RealtimeMtl.Sinks.Mosaic Mosaic)? _grid;
    private readonly IEventLog _log;
    private readonly TextWriter _messages;

    internal Engine(EngineSettings settings, EnginePipeline pipeline, IMtlModel model, (double TotalMs, int Runs) warmUp,
        IReadOnlyList<VideoRecorderSink?> recorders, IReadOnlyList<NatsFramePublisher> publishers,
        (VideoRecorderSink, RealtimeMtl.Sinks.Mosaic)? grid, List<IAsyncDisposable> owned, IEventLog log, TextWriter messages)
    {
        Settings = settings; Pipeline = pipeline; Model = model; WarmUp = warmUp;
        _recorders = recorders; _publishers = publishers; _grid = grid; _owned = owned; _log = log; _messages = messages;
    }

    /// <summary>The settings as resolved (a --save run's folder filled in).</summary>
    public EngineSettings Settings { get; }
    public EnginePipeline Pipeline { get; }
    public IMtlModel Model { get; }
    public (double TotalMs, int Runs) WarmUp { get; }

    /// <summary>
    /// Runs until the sources end, --max-frames or <paramref name="stop"/> (graceful: drains and finalises); fills the
    /// summary with the recordings, the bus's counts and the outputs, and writes --stats-json.
    /// </summary>
    public async Task<EngineResult> RunAsync(CancellationToken stop = default, EngineHooks? hooks = null)
    {
        hooks ??= new EngineHooks();
        var s = Settings;
        // The readiness line: a supervisor (or a test) knows frames flow, not just that the model loaded.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var firstOut = 0;
        foreach (var camera in Pipeline.Cameras)
            camera.FirstFrameOut += () =>
            {
                if (Interlocked.Exchange(ref firstOut, 1) != 0) return;
                _log.Info($"first frame out {started.Elapsed.TotalMilliseconds:0} ms after the start");
                hooks.FirstFrame?.Invoke();
            };
        var lengths = Pipeline.Cameras.Select(c => c.Source.FrameCount is { } fc ? Math.Min(fc, s.MaxFrames ?? long.MaxValue) : s.MaxFrames).ToList();
        long? length = lengths.Any(l => l is null) ? null : lengths.Sum(l => l!.Value);
        var all = Pipeline.Cameras.Select(cam => cam.Stats).ToList();
        var console = _log as ConsoleEvents;
        using (var progress = (s.Quiet || console is null) && hooks.Progress is null ? null : new Timer(_ =>
        {
            if (!s.Quiet) console?.Progress(all, length);
            hooks.Progress?.Invoke(all.Sum(x => x.FramesOut), length, all.Sum(x => x.RecentFps));
        }, null, 1000, 1000))
        {
            var summary = RunSummary.From(await Pipeline.RunAsync(stop)) with { WarmUpMs = WarmUp.TotalMs, WarmUpRuns = WarmUp.Runs };
            console?.EndProgress();
            hooks.Progress?.Invoke(all.Sum(x => x.FramesOut), length, all.Sum(x => x.RecentFps));
            return Finish(summary);
        }
    }

    private EngineResult Finish(RunSummary summary)
    {
        var s = Settings;
        // The pipeline has completed the recorders (final name, index; a failure counted as a sink error).
        static RunSummary.RecordingFigures? Figures(VideoRecorderSink? r) => r is null ? null
            : new RunSummary.RecordingFigures(r.Path, r.Codec, r.RecordedFps, r.FramesInFile, r.FramesWritten, r.FramesRepeated, r.FramesSkipped,
                r.CapturedSeconds)
            { FramesRescaled = r.FramesRescaled };
        summary = summary.Cameras is { } each
            ? summary with { Cameras = each.Select((cam, i) => cam with { Recording = Figures(_recorders[i]) }).ToList() }
            : summary with { Recording = Figures(_recorders[0]) };
        if (_grid is var (recorder, mosaic))
            summary.Notes.Add($"grid    {recorder.Path}: {recorder.FramesInFile} frames, a {mosaic.Size.Width}x{mosaic.Size.Height} " +
                $"mosaic of {Pipeline.Cameras.Count} cameras ({recorder.Codec})");
        // What went on the bus and what did not (a server away, a message over its limit).
        foreach (var publisher in _publishers) summary.Notes.Add(publisher.Report());
        if (_publishers.Count > 0)
            summary = summary with { Bus = new RunSummary.BusFigures(_publishers.Sum(p => p.Published), _publishers.Sum(p => p.Lost)) };
        summary = summary with { Outputs = Outputs() };
        string? failure = null;
        if (s.StatsJson is { } statsPath && statsPath != "-")
        {
            try { RealtimeMtl.Common.Files.AtomicFile.Write(statsPath, summary.ToJson()); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failure = $"--stats-json '{statsPath}' could not be written ({e.Message}); the other outputs were finalised.";
                _messages.WriteLine($"error: {failure}");
            }
        }
        if (summary.StageError is not null)
        {
            failure = $"{summary.StageError}; the outputs were finalised.";
            _messages.WriteLine($"error: {failure}");
        }
        var sinkErrors = summary.SinkErrors.Keys.Concat(summary.Cameras?.SelectMany(c => c.SinkErrors.Keys) ?? []).Distinct().ToList();
        failure ??= summary.SourceError ?? summary.Cameras?.Select(c => c.SourceError).FirstOrDefault(e => e is not null)
            ?? (sinkErrors.Count > 0 ? $"{string.Join(", ", sinkErrors)} failed during the run; the other outputs were finalised." : null);
        // 3: the run started but a source (any camera), a stage or a sink failed on the way (outputs finalised either way).
        return new EngineResult(failure is null ? 0 : 3, failure, summary);
    }

    /// <summary>What the run wrote, for the summary: the run folder and each output, per camera where there are several.</summary>
    private Dictionary<string, string> Outputs()
    {
        var s = Settings;
        var cameras = EngineBuilder.CamerasOf(s);
        var o = new Dictionary<string, string>();
        if (s.RunFolder is { } dir) { o["run_folder"] = dir; o["args_json"] = Path.Combine(dir, "args.json"); }
        for (var i = 0; i < cameras.Count; i++)
        {
            var camera = cameras[i];
            var c = s.ForCamera(camera);
            var suffix = cameras.Count > 1 ? $" ({camera.Name})" : "";
            // Where the recording really is: its own path, or where it was left when its folder was replaced mid-run.
            if (c.Record is { } rec) o["recording" + suffix] = _recorders.ElementAtOrDefault(i)?.Path ?? rec;
            if (c.SaveRaw is { } raw) o["raw" + suffix] = raw;
            if (c.SavePointCloud is { } ply) o["point_clouds" + suffix] = ply;
        }
        if (s.GridRecord is { } grid) o["grid_recording"] = grid;
        if (s.RecordMcap is { } mcap) o["mcap"] = mcap;
        if (s.StatsJson is { } json && json != "-") o["stats_json"] = json;
        return o;
    }

    /// <summary>Disposes, in order, the sinks and sources, the servers and the model the builder loaded.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            try { await owned.DisposeAsync(); }
            catch (Exception e) { _log.Warning($"closing {owned.GetType().Name}: {e.Message}"); }
        }
        _owned.Clear();
    }
}
