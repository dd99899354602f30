using RealtimeMtl.Common.Logging;
using System.Runtime.InteropServices;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Serving;
using RealtimeMtl.Serving.Foxglove;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Sinks;
using RealtimeMtl.Sinks.Recording;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Render;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Quality;
using RealtimeMtl.Serving.Feed;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// The composition root: opens the source and model, assembles renderer and sinks, runs the pipeline under
/// Ctrl+C/SIGTERM handling (first: drain and finalise; second: exit now), prints the summary.
/// Exit codes: 0 done, 2 bad input or options, 3 a source, stage or sink failed mid-run (outputs finalised), 130 forced exit.
/// </summary>
public static class EngineRunner
{
    public static async Task<int> RunAsync(EngineSettings s, TextWriter output, TextWriter errors, CancellationToken external = default, EngineHooks? hooks = null)
    {
        hooks ??= new EngineHooks();
        var log = new ConsoleEvents(errors, s.Quiet);
        IFrameSource? source = null;
        OnnxMtlModel? model = null;
        FrameRenderer? renderer = null;
        var sinks = new List<IFrameSink>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(external);
        // The first SIGINT or SIGTERM drains the pipeline and finalises the outputs; the second exits at once (130).
        using var signals = hooks.HandleSignals
            ? new RealtimeMtl.Common.Commands.TwoStageStop(errors, "stopping: draining the pipeline and finalising outputs (press Ctrl+C again to exit at once)", stop.Cancel)
            : null;
        try
        {
            // Before anything opens: outputs that would overwrite the source or each other, an unwritable --stats-json.
            OutputTargets.Check(s);
            ExecutionProviders.ConfigureLogging(s.Verbose);
            if (s.Token is null && EngineOptionSet.Exposed(s.Serve, s.Foxglove, s.Feed) is { Count: > 0 } open)
                log.Warning($"serving without a token beyond loopback ({string.Join(", ", open)}, --allow-anonymous): anyone who can reach it can watch and change the view.");
            model = new OnnxMtlModel(s.ModelPath, new ModelOptions { Device = s.Device, Threads = s.Threads, TensorRtCache = s.TrtCache, Gpu = new GpuOptions { Path = s.GpuPath } }, log);
            if (s.StrictDevice && s.Device is ExecutionDevice.Cuda or ExecutionDevice.TensorRt && model.Device != s.Device)
                throw new ArgumentException($"--device {s.Device.ToString().ToLowerInvariant()} could not start here (the run would use {model.Device.ToString().ToLowerInvariant()}; --strict-device refuses that); ./rtmtl doctor shows what is missing.");
            // Before the source opens: GPU initialisation, cuDNN's search, graph capture or a TensorRT build happen
            // here, so no statistic (and no live recording's clock) ever sees them.
            var warm = model.WarmUp();
            source = SourceFactory.Open(s.Source, new SourceOptions { Realtime = s.Realtime, Camera = s.Camera, Events = log, Calibration = s.Calibration, Undistort = s.Undistort });
            renderer = new FrameRenderer(model.Info, s.Render);
            // The stats belong to this run: the pipeline fills them, the servers and the HUD read them.
            var stats = PipelineStats.For(source, model, new LiveQuality(model.Info.Labels.Count));
            var pipeline = new EnginePipeline(source, model, new ModelPostProcessor(s.Smooth), renderer, stats,
                new PipelineOptions { MaxFrames = s.MaxFrames, ForceLive = s.Realtime ? true : null }, log);
            var recorder = AddWriters(s, source, model, sinks, stop, log);
            await AddServersAsync(s, source, model, renderer, stats, sinks, errors);
            if (hooks.FirstFrame is { } first) sinks.Add(new FirstFrameProbe(first));
            foreach (var sink in sinks) pipeline.Attach(sink);
            log.Info($"running {model.Info.Name} ({model.Info.Architecture}, {model.Info.InputWidth}x{model.Info.InputHeight}) on {model.Device.ToString().ToLowerInvariant()}{(model.Device == ExecutionDevice.Cpu ? "" : $" ({model.GpuPath.ToString().ToLowerInvariant()})")} over {source.Description}; warm-up {warm.TotalMs:0} ms ({warm.Runs} runs)");
            long? length = source.FrameCount is { } fc ? Math.Min(fc, s.MaxFrames ?? long.MaxValue) : s.MaxFrames;
            using var progress = s.Quiet && hooks.Progress is null ? null : new Timer(_ =>
            {
                if (!s.Quiet) log.Progress(stats, length);
                hooks.Progress?.Invoke(stats.FramesOut, length, stats.RecentFps);
            }, null, 1000, 1000);
            var summary = await pipeline.RunAsync(stop.Token) with { WarmUpMs = warm.TotalMs, WarmUpRuns = warm.Runs };
            log.EndProgress();
            hooks.Progress?.Invoke(stats.FramesOut, length, stats.RecentFps);
            // The pipeline has completed the recorder (final name, index; a failure counted as a sink error).
            if (recorder is not null)
            {
                summary = summary with
                {
                    Recording = new RunSummary.RecordingFigures(recorder.Path, recorder.Codec, recorder.RecordedFps, recorder.FramesInFile, recorder.FramesWritten, recorder.FramesRepeated, recorder.FramesSkipped, recorder.CapturedSeconds),
                };
            }
            if (s.StatsJson == "-") output.WriteLine(summary.ToJson());
            else output.WriteLine(summary.ToText());
            var statsFailed = false;
            if (s.StatsJson is { } statsPath && statsPath != "-")
            {
                try { RealtimeMtl.Common.Files.AtomicFile.Write(statsPath, summary.ToJson()); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    errors.WriteLine($"error: --stats-json '{statsPath}' could not be written ({e.Message}); the other outputs were finalised.");
                    statsFailed = true;
                }
            }
            if (summary.StageError is not null) errors.WriteLine($"error: {summary.StageError}; the outputs were finalised.");
            // 3: the run started but a source, a stage or a sink failed on the way (outputs finalised either way).
            return summary.SourceError is null && summary.StageError is null && summary.SinkErrors.Count == 0 && !statsFailed ? 0 : 3;
        }
        catch (Exception e) when (e is SourceException or ModelContractException or ArgumentException or RealtimeMtl.Distributed.Nats.NatsUnavailableException)
        {
            errors.WriteLine($"error: {e.Message}");
            return 2;
        }
        finally
        {
            foreach (var sink in sinks) await sink.DisposeAsync();
            if (source is not null) await source.DisposeAsync();
            renderer?.Dispose();
            model?.Dispose();
        }
    }

    /// <summary>The sinks that write or show frames: recorder, raw outputs, window, point clouds. Returns the recorder.</summary>
    private static VideoRecorderSink? AddWriters(EngineSettings s, IFrameSource source, OnnxMtlModel model, List<IFrameSink> sinks, CancellationTokenSource stop, IEventLog log)
    {
        VideoRecorderSink? recorder = null;
        if (s.Record is not null)
        {
            // The source's nominal rate; live runs place frames on its time grid by capture time.
            recorder = new VideoRecorderSink(new RecorderOptions
            {
                Path = s.Record, Fps = source.NominalFps ?? 30, Live = source.IsLive || s.Realtime, Codec = s.RecordCodec,
                FollowMediaTime = !(source.IsLive || s.Realtime) && source.TimedByMedia,
                PreferNvenc = model.Device != ExecutionDevice.Cpu,
            }, log);
            sinks.Add(recorder);
        }
        if (s.SaveRaw is not null) sinks.Add(new RawOutputSink(s.SaveRaw, model.Info.Labels.Classes));
        if (s.Show)
        {
            var window = new WindowSink(log);
            window.CloseRequested += () => stop.Cancel();
            if (window.Active) sinks.Add(window);
        }
        if (s.SavePointCloud is not null) sinks.Add(new PointCloudSink(s.SavePointCloud, s.PointCloudEvery, model.Info.Labels, log));
        return recorder;
    }

    /// <summary>The sinks that serve: metrics and web view, Foxglove, the gRPC feed; each started and listening.</summary>
    private static async Task AddServersAsync(EngineSettings s, IFrameSource source, OnnxMtlModel model, FrameRenderer renderer, PipelineStats stats, List<IFrameSink> sinks, TextWriter errors)
    {
        if (s.Serve is not null)
        {
            var metrics = new EngineMetrics(stats, ExecutionProviders.RuntimeVersion);
            sinks.Add(metrics);
            var web = new WebViewServer(new ServeOptions { Endpoint = s.Serve, Token = s.Token, MaxViewers = s.MaxViewers, WriteDeadline = s.ViewerTimeout }, stats, model.Info.Labels, new RendererControl(renderer), metrics);
            await web.StartAsync();
            sinks.Add(web);
            errors.WriteLine($"web view: {web.BaseUri}{(s.Token is null ? "" : "?token=...")}  (stream /stream.mjpg, stats /api/stats, metrics /metrics)");
        }
        if (s.Foxglove is not null)
        {
            var fox = new FoxgloveServer(new ServeOptions { Endpoint = s.Foxglove, Token = s.Token, MaxViewers = s.MaxViewers }, model.Info.Labels, FeedOptions(s));
            await fox.StartAsync();
            sinks.Add(fox);
            errors.WriteLine($"foxglove: ws://{fox.Endpoint} (subprotocol {FoxgloveServer.SubProtocol})");
        }
        if (s.Feed is not null)
        {
            var feed = new FeedServer(new ServeOptions { Endpoint = s.Feed, Token = s.Token, MaxViewers = s.MaxViewers }, model.Info, stats, FeedOptions(s));
            await feed.StartAsync();
            sinks.Add(feed);
            errors.WriteLine($"feed: gRPC (h2c) at {feed.Endpoint}, contract protos/rtmtl_feed.proto");
        }
        if (s.Publish is { } publish)
        {
            var publisher = new RealtimeMtl.Distributed.Bus.NatsFramePublisher(publish with { FrameId = s.FrameId, EveryFrame = !(source.IsLive || s.Realtime) }, model.Info.Labels);
            sinks.Add(publisher);
            await publisher.StartAsync();
            if (!s.Quiet) errors.WriteLine($"publishing: {publisher.Subject} on {publish.Endpoint?.Display} (message rtmtl.feed.v1.FeedFrame, protos/rtmtl_feed.proto)");
        }
    }

    private sealed class ConsoleEvents(TextWriter errors, bool quiet) : IEventLog
    {
        // The live line is for a person at a terminal; a log file gets the summary, not a line a second.
        private readonly ProgressPrinter _progress = new(errors);
        public void Warning(string message) { EndProgress(); errors.WriteLine($"warning: {message}"); }
        public void Info(string message) { if (!quiet) { EndProgress(); errors.WriteLine(message); } }

        public void Progress(PipelineStats s, long? total)
        {
            if (!_progress.IsTerminal) return;
            _progress.Show(() => ProgressLine.Format(s.FramesOut, total, s.RecentFps, s.EndToEnd.Last, s.DroppedAtSource));
        }

        public void EndProgress() => _progress.Interrupt();
    }

    private static FeedOptions FeedOptions(EngineSettings s) =>
        new() { FrameId = s.FrameId, Image = s.FeedImage, Calibration = s.Calibration };
}
