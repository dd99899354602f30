using System.Runtime.InteropServices;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Inference;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Quality;
using RealtimeMtl.Render;
using RealtimeMtl.Ros2;
using RealtimeMtl.Ros2.Capture;
using RealtimeMtl.Ros2.Dds;
using RealtimeMtl.Ros2.Publishing;
using RealtimeMtl.Serving;
using RealtimeMtl.Serving.Feed;
using RealtimeMtl.Serving.Foxglove;
using RealtimeMtl.Sinks;
using RealtimeMtl.Sinks.Mcap;
using RealtimeMtl.Sinks.Recording;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// The composition root: opens the source and model, assembles renderer and sinks, runs the pipeline under
/// Ctrl+C/SIGTERM handling (first: drain and finalise; second: exit now), prints the summary.
/// Exit codes: 0 done, 2 bad input or options, 3 a source, stage or sink failed mid-run (outputs finalised), 130 forced exit.
/// </summary>
public static class EngineRunner
{
    public static async Task<int> RunAsync(EngineSettings s, TextWriter output, TextWriter errors, CancellationToken external = default,
        EngineHooks? hooks = null)
    {
        hooks ??= new EngineHooks();
        // The elements whose sources open through SourceFactory by scheme (ros2:), registered before anything opens.
        Ros2Element.Register();
        var log = new ConsoleEvents(errors, s.Quiet);
        var cameras = s.Cameras.Count > 0 ? s.Cameras : [new NamedSource("cam0", s.Source)];
        var opened = new List<(NamedSource Camera, IFrameSource Source, FrameRenderer Renderer, List<IFrameSink> Sinks)>();
        OnnxMtlModel? model = null;
        Mosaic? mosaic = null;
        WebViewServer? web = null;
        FoxgloveServer? fox = null;
        FeedServer? feed = null;
        VideoRecorderSink? gridRecorder = null;
        McapRecorderSink? mcap = null;
        Ros2PublisherSink? ros2 = null;
        MetricsServer? metricsServer = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(external);
        // The first SIGINT or SIGTERM drains the pipeline and finalises the outputs; the second exits at once (130).
        using var signals = hooks.HandleSignals
            ? new RealtimeMtl.Common.Commands.TwoStageStop(errors,
                "stopping: draining the pipeline and finalising outputs (press Ctrl+C again to exit at once)", stop.Cancel)
            : null;
        try
        {
            // Before anything opens: outputs that would overwrite a source or each other, an unwritable --stats-json.
            OutputTargets.Check(s);
            ExecutionProviders.ConfigureLogging(s.Verbose);
            // DDS before the model loads: a machine without Cyclone hears so at once, with the install line.
            if (s.Ros2 is not null) CycloneDds.EnsureAvailable("--ros2");
            if (s.Token is null && EngineOptionSet.Exposed(s.Serve, s.Foxglove, s.Feed, s.Metrics) is { Count: > 0 } open)
                log.Warning($"serving without a token beyond loopback ({string.Join(", ", open)}, --allow-anonymous): anyone who can reach it can " +
                    $"watch and change the view.");
            var maxBatch = Math.Max(1, s.Batch ?? cameras.Count);
            // Several cameras on a CPU of 2 or more cores: two runs in flight, one thread each on 2 cores, as Triton's
            // instance groups do (./rtmtl bench --cameras measures it); one camera stays one run at a time.
            var instances = s.ModelInstances ?? (cameras.Count > 1 && s.Device == ExecutionDevice.Cpu && (s.Threads > 0 ? s.Threads
                : Environment.ProcessorCount) >= 2 ? 2 : 1);
            model = new OnnxMtlModel(s.ModelPath, new ModelOptions
            {
                Device = s.Device, Threads = s.Threads, TensorRtCache = s.TrtCache,
                Gpu = new GpuOptions { Path = s.GpuPath }, MaxBatch = maxBatch, Instances = instances
            }, log);
            if (s.StrictDevice && s.Device is ExecutionDevice.Cuda or ExecutionDevice.TensorRt && model.Device != s.Device)
                throw new ArgumentException($"--device {s.Device.ToString().ToLowerInvariant()} could not start here (the run would use " +
                    $"{model.Device.ToString().ToLowerInvariant()}; --strict-device refuses that); ./rtmtl doctor shows what is missing.");
            // Before the sources open: GPU initialisation, cuDNN's search, graph capture or a TensorRT build happen
            // here, so no statistic (and no live recording's clock) ever sees them.
            var warm = model.WarmUp();
            // The batched shapes' first runs on every instance, also before the clock: a whole batch, and the share
            // each instance takes when they all start together.
            var perRun = Math.Min(model.MaxBatch, s.Sync is null ? maxBatch : cameras.Count);
            for (var k = 0; k < model.Instances; k++)
                foreach (var size in new[] { perRun, (perRun + model.Instances - 1) / model.Instances }.Distinct())
                    if (size > 1 || k > 0) model.Instance(k).RunBatch(size);
            var pipeline = new EnginePipeline(model, new PipelineOptions
            {
                MaxFrames = s.MaxFrames, ForceLive = s.Realtime ? true : null, MaxBatch = s.Batch, BatchTimeout = s.BatchTimeout,
                StopOnCameraFailure = s.StopOnCameraFailure, Sync = s.Sync,
            }, log);
            // Every source opens before any output exists: a bad source leaves no folder and no file behind.
            var engineCameras = new List<EngineCamera>();
            foreach (var camera in cameras)
            {
                var c = s.ForCamera(camera);
                IEventLog events = cameras.Count > 1 ? new PrefixedEventLog($"camera {camera.Name}: ", log) : log;
                var source = SourceFactory.Open(c.Source, new SourceOptions
                {
                    Realtime = c.Realtime, Camera = c.Camera, Events = events,
                    Calibration = c.Calibration, Undistort = c.Undistort
                });
                var renderer = new FrameRenderer(model.Info, c.Render);
                opened.Add((camera, source, renderer, []));
                // The stats belong to this camera: the pipeline fills them, the servers and the HUD read them.
                var stats = PipelineStats.For(source, model, new LiveQuality(model.Info.Labels.Count));
                engineCameras.Add(pipeline.AddCamera(camera.Name, source, new ModelPostProcessor(c.Smooth), renderer, stats, c.Realtime ? true
                    : null));
            }
            // Several cameras on the bus: each publishes its own results on rtmtl.frames.NAME, with its own frame id.
            // Connected before any output exists: a server that cannot be reached leaves no run folder behind.
            if (cameras.Count > 1 && s.Publish is { } bus)
            {
                for (var i = 0; i < engineCameras.Count; i++)
                {
                    var (camera, source, _, sinks) = opened[i];
                    var c = s.ForCamera(camera);
                    var publisher = new RealtimeMtl.Distributed.Bus.NatsFramePublisher(bus with
                    {
                        Camera = camera.Name,
                        FrameId = camera.FrameId ?? $"{camera.Name}_optical_frame",
                        EveryFrame = !(source.IsLive || c.Realtime),
                    }, model.Info.Labels);
                    sinks.Add(publisher); // attached below and disposed with the camera's other sinks
                    await publisher.StartAsync();
                }
                if (!s.Quiet) errors.WriteLine($"publishing: rtmtl.frames.{{{string.Join(",", cameras.Select(c => c.Name))}}} on " +
                    $"{bus.Endpoint?.Display} (message rtmtl.feed.v1.FeedFrame, protos/rtmtl_feed.proto)");
            }
            // The engine as a ROS 2 node: every camera's topics on one DDS participant, joined before any output exists.
            if (s.Ros2 is { } ros2Options)
            {
                ros2 = new Ros2PublisherSink(ros2Options, model.Info.Labels, cameras.Select(c =>
                    (c.Name, cameras.Count == 1 ? s.ForCamera(c).FrameId : c.FrameId ?? $"{c.Name}_optical_frame",
                        !Ros2SourceSpec.Is(c.Spec))).ToList(), log);
                for (var i = 0; i < engineCameras.Count; i++) engineCameras[i].Attach(ros2.CameraSink(i));
                if (!s.Quiet) errors.WriteLine($"ros2: publishing {ros2.Describe()}");
            }
            if (s.Save)
            {
                s = s.WithRunFolder();
                OutputTargets.Check(s);
            }
            if (s.RunFolder is not null) WriteArgs(s, model);
            var recorders = new List<VideoRecorderSink?>();
            for (var i = 0; i < cameras.Count; i++)
            {
                var (camera, source, renderer, sinks) = opened[i];
                var c = s.ForCamera(camera);
                IEventLog events = cameras.Count > 1 ? new PrefixedEventLog($"camera {camera.Name}: ", log) : log;
                if (cameras.Count > 1 && c.Record is { } rec && Path.GetDirectoryName(Path.GetFullPath(rec)) is { } dir)
                    Directory.CreateDirectory(dir);
                recorders.Add(AddWriters(c, source, model, sinks, stop, events));
                if (i == 0 && hooks.Sinks is { } extra) sinks.AddRange(extra(model.Info));
                if (cameras.Count == 1) await AddServersAsync(c, source, model, renderer, engineCameras[i].Stats, sinks, errors);
                foreach (var sink in sinks) engineCameras[i].Attach(sink);
            }
            // One MCAP file for every camera: topics /rtmtl/... for one camera, /NAME/... for each of several.
            if (s.RecordMcap is { } mcapPath)
            {
                // The run folder's is made here; a folder the user names must exist (as for --record).
                if (s.RunFolder is not null && Path.GetDirectoryName(Path.GetFullPath(mcapPath)) is { } mcapDir) Directory.CreateDirectory(mcapDir);
                mcap = new McapRecorderSink(mcapPath, model.Info.Labels,
                    cameras.Count == 1 ? [("rtmtl", s.FrameId)] : cameras.Select(c => (c.Name, c.FrameId ?? $"{c.Name}_optical_frame")).ToList(), log,
                    s.McapCompression);
                for (var i = 0; i < engineCameras.Count; i++) engineCameras[i].Attach(mcap.CameraSink(i));
            }
            // --metrics: /metrics alone, for every camera (a camera label each), with the batch sizes of several.
            if (s.Metrics is { } metricsAt)
            {
                var alone = new EngineMetrics(engineCameras.Select(c => (c.Name, c.Stats)).ToList(), ExecutionProviders.RuntimeVersion,
                    cameras.Count > 1 ? pipeline.Batches : null);
                for (var i = 0; i < engineCameras.Count; i++) engineCameras[i].Attach(alone.Camera(i));
                metricsServer = new MetricsServer(new ServeOptions { Endpoint = metricsAt, Token = s.Token }, alone);
                await metricsServer.StartAsync();
                errors.WriteLine($"metrics: http://{metricsServer.Endpoint}/metrics{(s.Token is null ? "" : " (token required)")}");
            }
            // Several cameras on one page (and one /metrics with a camera label and the batch sizes).
            if (cameras.Count > 1 && s.Serve is not null)
            {
                var metrics = new EngineMetrics(engineCameras.Select(c => (c.Name, c.Stats)).ToList(), ExecutionProviders.RuntimeVersion,
                    pipeline.Batches);
                web = new WebViewServer(new ServeOptions
                {
                    Endpoint = s.Serve, Token = s.Token, MaxViewers = s.MaxViewers,
                    WriteDeadline = s.ViewerTimeout
                },
                    engineCameras.Select((c, i) => new WebViewServer.Camera(c.Name, c.Stats, new RendererControl(new FrameRenderer(model.Info,
                        s.ForCamera(cameras[i]).Render)))).ToList(), model.Info.Labels, metrics);
                await web.StartAsync();
                for (var i = 0; i < engineCameras.Count; i++)
                    engineCameras[i].Attach(metrics.Camera(i)).Attach(web.CameraSink(i)).Attach(web.ClassesSink(i));
                errors.WriteLine($"web view: {web.BaseUri}{(s.Token is null ? "" : "?token=...")}  (all {cameras.Count} cameras; streams " +
                    $"/stream/NAME.mjpg, stats /api/stats, metrics /metrics)");
            }
            // Several cameras in Foxglove: topics per camera, each with its own frame id.
            if (cameras.Count > 1 && s.Foxglove is not null)
            {
                fox = new FoxgloveServer(new ServeOptions { Endpoint = s.Foxglove, Token = s.Token, MaxViewers = s.MaxViewers }, model.Info.Labels,
                    cameras.Select(c => (c.Name, c.FrameId ?? $"{c.Name}_optical_frame")).ToList());
                await fox.StartAsync();
                for (var i = 0; i < engineCameras.Count; i++) engineCameras[i].Attach(fox.CameraSink(i));
                errors.WriteLine($"foxglove: ws://{fox.Endpoint} (subprotocol {FoxgloveServer.SubProtocol}; topics /NAME/image, /NAME/labels, " +
                    $"/NAME/depth, /NAME/camera_info, /NAME/points per camera)");
            }
            // Several cameras on the gRPC feed: each frame names its camera, with its frame id; SubscribeSets with --sync-ms.
            if (cameras.Count > 1 && s.Feed is not null)
            {
                feed = new FeedServer(new ServeOptions { Endpoint = s.Feed, Token = s.Token, MaxViewers = s.MaxViewers }, model.Info,
                    engineCameras[0].Stats, FeedOptions(s),
                    cameras.Select(c => (c.Name, c.FrameId ?? $"{c.Name}_optical_frame")).ToList(), s.Sync?.TotalMilliseconds);
                await feed.StartAsync();
                for (var i = 0; i < engineCameras.Count; i++) engineCameras[i].Attach(feed.CameraSink(i));
                errors.WriteLine($"feed: gRPC (h2c) at {feed.Endpoint}, contract protos/rtmtl_feed.proto ({cameras.Count} " +
                    $"cameras{(s.Sync is null ? "" : ", synchronised sets with SubscribeSets")})");
            }
            // --layout grid: one mosaic of every camera's overlay, recorded and/or shown.
            if (s.Grid && (s.GridRecord is not null || s.Show))
            {
                var outputs = new List<IFrameSink>();
                if (s.GridRecord is { } gridPath)
                {
                    gridRecorder = new VideoRecorderSink(new RecorderOptions
                    {
                        Path = gridPath, Fps = opened[0].Source.NominalFps ?? 30,
                        Codec = s.RecordCodec
                    }, log);
                    outputs.Add(gridRecorder);
                }
                if (s.Show)
                {
                    var window = new WindowSink(log);
                    window.CloseRequested += () => stop.Cancel();
                    if (window.Active) outputs.Add(window);
                }
                mosaic = new Mosaic(cameras.Select(c => c.Name).ToList(), 480, outputs);
                for (var i = 0; i < engineCameras.Count; i++) engineCameras[i].Attach(mosaic.Input(i));
            }
            // The readiness line: a supervisor (or a test) knows frames flow, not just that the model loaded.
            var started = System.Diagnostics.Stopwatch.StartNew();
            var firstOut = 0;
            foreach (var engineCamera in pipeline.Cameras)
                engineCamera.FirstFrameOut += () =>
                {
                    if (Interlocked.Exchange(ref firstOut, 1) != 0) return;
                    log.Info($"first frame out {started.Elapsed.TotalMilliseconds:0} ms after the start");
                    hooks.FirstFrame?.Invoke();
                };
            var over = cameras.Count == 1 ? opened[0].Source.Description
                : $"{cameras.Count} cameras ({string.Join(", ", opened.Select(o => $"{o.Camera.Name}: {o.Source.Description}"))}), batches of up " +
                    $"to {pipeline.BatchSize}" + (model.Instances > 1
                        ? $" on {model.Instances} model instances at once " +
                            $"({OnnxMtlModel.ThreadsPerInstance(s.Threads, model.Instances)} thread(s) each)"
                        : "");
            log.Info($"running {model.Info.Name} ({model.Info.Architecture}, {model.Info.InputWidth}x{model.Info.InputHeight}) on " +
                model.Device.ToString().ToLowerInvariant() +
                (model.Device == ExecutionDevice.Cpu ? "" : $" ({model.GpuPath.ToString().ToLowerInvariant()})") +
                $" over {over}; warm-up {warm.TotalMs:0} ms ({warm.Runs} runs)");
            var lengths = opened.Select(o => o.Source.FrameCount is { } fc ? Math.Min(fc, s.MaxFrames ?? long.MaxValue) : s.MaxFrames).ToList();
            long? length = lengths.Any(l => l is null) ? null : lengths.Sum(l => l!.Value);
            var all = pipeline.Cameras.Select(cam => cam.Stats).ToList();
            using var progress = s.Quiet && hooks.Progress is null ? null : new Timer(_ =>
            {
                if (!s.Quiet) log.Progress(all, length);
                hooks.Progress?.Invoke(all.Sum(x => x.FramesOut), length, all.Sum(x => x.RecentFps));
            }, null, 1000, 1000);
            var summary = await pipeline.RunAsync(stop.Token) with { WarmUpMs = warm.TotalMs, WarmUpRuns = warm.Runs };
            log.EndProgress();
            hooks.Progress?.Invoke(all.Sum(x => x.FramesOut), length, all.Sum(x => x.RecentFps));
            // The pipeline has completed the recorders (final name, index; a failure counted as a sink error).
            RunSummary.RecordingFigures? Figures(VideoRecorderSink? r) => r is null ? null
                : new RunSummary.RecordingFigures(r.Path, r.Codec, r.RecordedFps, r.FramesInFile, r.FramesWritten, r.FramesRepeated, r.FramesSkipped,
                    r.CapturedSeconds)
                { FramesRescaled = r.FramesRescaled };
            summary = summary.Cameras is { } each
                ? summary with { Cameras = each.Select((cam, i) => cam with { Recording = Figures(recorders[i]) }).ToList() }
                : summary with { Recording = Figures(recorders[0]) };
            if (gridRecorder is not null && mosaic is not null)
                summary.Notes.Add($"grid    {gridRecorder.Path}: {gridRecorder.FramesInFile} frames, a {mosaic.Size.Width}x{mosaic.Size.Height} " +
                    $"mosaic of {cameras.Count} cameras ({gridRecorder.Codec})");
            // What went on the bus and what did not (a server away, a message over its limit).
            foreach (var publisher in opened.SelectMany(o => o.Sinks).OfType<RealtimeMtl.Distributed.Bus.NatsFramePublisher>())
                summary.Notes.Add(publisher.Report());
            summary = summary with { Outputs = Outputs(s, cameras, recorders) };
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
            var sinkErrors = summary.SinkErrors.Count > 0 || (summary.Cameras?.Any(c => c.SinkErrors.Count > 0) ?? false);
            // 3: the run started but a source (any camera), a stage or a sink failed on the way (outputs finalised either way).
            return summary.SourceError is null && summary.StageError is null && !sinkErrors && !statsFailed ? 0 : 3;
        }
        catch (Exception e) when (e is SourceException or ModelContractException or ArgumentException
            or RealtimeMtl.Distributed.Nats.NatsUnavailableException
            or DdsUnavailableException)
        {
            errors.WriteLine($"error: {e.Message}");
            return 2;
        }
        finally
        {
            foreach (var o in opened)
            {
                foreach (var sink in o.Sinks) await sink.DisposeAsync();
                await o.Source.DisposeAsync();
                o.Renderer.Dispose();
            }
            if (mosaic is not null) await mosaic.DisposeAsync();
            if (mcap is not null) await mcap.DisposeAsync();
            if (ros2 is not null) await ros2.DisposeAsync();
            if (metricsServer is not null) await metricsServer.DisposeAsync();
            if (web is not null) await web.DisposeAsync();
            if (fox is not null) await fox.DisposeAsync();
            if (feed is not null) await feed.DisposeAsync();
            model?.Dispose();
        }
    }

    /// <summary>The sinks that write or show frames: recorder, raw outputs, window, point clouds. Returns the recorder.</summary>
    private static VideoRecorderSink? AddWriters(EngineSettings s, IFrameSource source, OnnxMtlModel model, List<IFrameSink> sinks,
        CancellationTokenSource stop, IEventLog log)
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
        if (s.SaveRaw is not null)
        {
            // Raw outputs are named after the input: a video file's frames as NAME_NNNNNN (image folders name each file).
            var file = OutputTargets.SourcePath(s.Source) is { } path && File.Exists(path) ? Path.GetFileNameWithoutExtension(path) : null;
            sinks.Add(new RawOutputSink(s.SaveRaw, model.Info.Labels.Classes, file));
        }
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
    private static async Task AddServersAsync(EngineSettings s, IFrameSource source, OnnxMtlModel model, FrameRenderer renderer, PipelineStats stats,
        List<IFrameSink> sinks, TextWriter errors)
    {
        if (s.Serve is not null)
        {
            var metrics = new EngineMetrics(stats, ExecutionProviders.RuntimeVersion);
            sinks.Add(metrics);
            var web = new WebViewServer(new ServeOptions
            {
                Endpoint = s.Serve, Token = s.Token, MaxViewers = s.MaxViewers,
                WriteDeadline = s.ViewerTimeout
            }, stats, model.Info.Labels, new RendererControl(new FrameRenderer(model.Info, s.Render)), metrics);
            await web.StartAsync();
            sinks.Add(web);
            sinks.Add(web.ClassesSink(0));
            errors.WriteLine($"web view: {web.BaseUri}{(s.Token is null ? "" : "?token=...")}  (stream /stream.mjpg, stats /api/stats, metrics " +
                $"/metrics)");
        }
        if (s.Foxglove is not null)
        {
            var fox = new FoxgloveServer(new ServeOptions { Endpoint = s.Foxglove, Token = s.Token, MaxViewers = s.MaxViewers }, model.Info.Labels,
                FeedOptions(s));
            await fox.StartAsync();
            sinks.Add(fox);
            errors.WriteLine($"foxglove: ws://{fox.Endpoint} (subprotocol {FoxgloveServer.SubProtocol})");
        }
        if (s.Feed is not null)
        {
            var feed = new FeedServer(new ServeOptions { Endpoint = s.Feed, Token = s.Token, MaxViewers = s.MaxViewers }, model.Info, stats,
                FeedOptions(s));
            await feed.StartAsync();
            sinks.Add(feed);
            errors.WriteLine($"feed: gRPC (h2c) at {feed.Endpoint}, contract protos/rtmtl_feed.proto");
        }
        if (s.Publish is { } publish)
        {
            var publisher = new RealtimeMtl.Distributed.Bus.NatsFramePublisher(publish with
            {
                FrameId = s.FrameId,
                EveryFrame = !(source.IsLive
                || s.Realtime)
            }, model.Info.Labels);
            sinks.Add(publisher);
            await publisher.StartAsync();
            if (!s.Quiet) errors.WriteLine($"publishing: {publisher.Subject} on {publish.Endpoint?.Display} (message rtmtl.feed.v1.FeedFrame, " +
                $"protos/rtmtl_feed.proto)");
        }
    }

    private sealed class ConsoleEvents(TextWriter errors, bool quiet) : IEventLog
    {
        // The live line is for a person at a terminal; a log file gets the summary, not a line a second.
        private readonly ProgressPrinter _progress = new(errors);
        public void Warning(string message) { EndProgress(); errors.WriteLine($"warning: {message}"); }
        public void Info(string message) { if (!quiet) { EndProgress(); errors.WriteLine(message); } }

        public void Progress(IReadOnlyList<PipelineStats> all, long? total)
        {
            if (!_progress.IsTerminal) return;
            _progress.Show(() => ProgressLine.Format(all.Sum(s => s.FramesOut), total, all.Sum(s => s.RecentFps), all.Max(s => s.EndToEnd.Last),
                all.Sum(s => s.DroppedAtSource)));
        }

        public void EndProgress() => _progress.Interrupt();
    }

    /// <summary>args.json in the run folder: the command, every option as resolved, the version and commit, the folder it ran in.</summary>
    private static void WriteArgs(EngineSettings s, OnnxMtlModel model)
    {
        var (version, commit) = EngineMetrics.BuildVersion();
        var args = new Dictionary<string, object?>
        {
            ["schema_version"] = 1, ["command"] = "run", ["version"] = version, ["commit"] = commit,
            ["working_directory"] = Environment.CurrentDirectory,
            ["model"] = Path.GetFullPath(s.ModelPath), ["device"] = model.Device.ToString().ToLowerInvariant(), ["options"] = s.Args,
        };
        RealtimeMtl.Common.Files.AtomicFile.Write(Path.Combine(s.RunFolder!, "args.json"),
            System.Text.Json.JsonSerializer.Serialize(args, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>What the run wrote, for the summary: the run folder and each output, per camera where there are several.</summary>
    private static Dictionary<string, string> Outputs(EngineSettings s, IReadOnlyList<NamedSource> cameras,
        IReadOnlyList<VideoRecorderSink?> recorders)
    {
        var o = new Dictionary<string, string>();
        if (s.RunFolder is { } dir) { o["run_folder"] = dir; o["args_json"] = Path.Combine(dir, "args.json"); }
        for (var i = 0; i < cameras.Count; i++)
        {
            var camera = cameras[i];
            var c = s.ForCamera(camera);
            var suffix = cameras.Count > 1 ? $" ({camera.Name})" : "";
            // Where the recording really is: its own path, or where it was left when its folder was replaced mid-run.
            if (c.Record is { } rec) o["recording" + suffix] = recorders.ElementAtOrDefault(i)?.Path ?? rec;
            if (c.SaveRaw is { } raw) o["raw" + suffix] = raw;
            if (c.SavePointCloud is { } ply) o["point_clouds" + suffix] = ply;
        }
        if (s.GridRecord is { } grid) o["grid_recording"] = grid;
        if (s.RecordMcap is { } mcap) o["mcap"] = mcap;
        if (s.StatsJson is { } json && json != "-") o["stats_json"] = json;
        return o;
    }

    private static FeedOptions FeedOptions(EngineSettings s) =>
        new() { FrameId = s.FrameId, Image = s.FeedImage, Calibration = s.Calibration };
}
