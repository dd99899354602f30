using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Cli.Commands;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Distributed.Bus;
using RealtimeMtl.Feed;
using RealtimeMtl.Inference;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Sources;
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

namespace RealtimeMtl.Cli.Composition;

/// <summary>
/// The one place an engine is assembled, for every command (run, demo, eval --video, the file queue, the worker, bench)
/// and the tests: the model, every camera's source, post-processing and renderer, then the outputs in this order, so
/// that a refusal leaves nothing behind: the bus and DDS (reached before any file exists), the run folder, each
/// camera's writers, the MCAP file, then the servers. One camera is a fleet of one: every output is wired once, over
/// the cameras, and takes a single camera's names and topics when there is one.
/// </summary>
public sealed class EngineBuilder(EngineSettings settings, IEventLog log, TextWriter messages)
{
    private IMtlModel? _model;
    private IReadOnlyList<(IFrameSource Source, IFrameRenderer Renderer)>? _sources;
    private Func<ModelInfo, IEnumerable<IFrameSink>>? _extraSinks;
    private Func<PipelineOptions, PipelineOptions> _tune = o => o;
    private CancellationTokenSource? _stop;

    /// <summary>The cameras of the settings: those given, or the one --source as "cam0".</summary>
    public static IReadOnlyList<NamedSource> CamerasOf(EngineSettings s) => s.Cameras.Count > 0 ? s.Cameras : [new NamedSource("cam0", s.Source)];

    /// <summary>A model already loaded (and warmed up) by the caller, which keeps it: bench, tests.</summary>
    public EngineBuilder UseModel(IMtlModel model) { _model = model; return this; }

    /// <summary>The one camera's source, already open (the engine disposes it), drawn by the caller's renderer.</summary>
    public EngineBuilder UseSource(IFrameSource source, IFrameRenderer renderer) => UseSources([(source, renderer)]);

    /// <summary>Each camera's source, already open (the engine disposes them), in the order of the settings' cameras.</summary>
    public EngineBuilder UseSources(IReadOnlyList<(IFrameSource Source, IFrameRenderer Renderer)> sources) { _sources = sources; return this; }

    /// <summary>More sinks for the first camera, made once the model is known; the engine disposes them.</summary>
    public EngineBuilder AddSinks(Func<ModelInfo, IEnumerable<IFrameSink>>? sinks) { _extraSinks = sinks; return this; }

    /// <summary>Channel sizes and the like, beyond what the settings say (tests).</summary>
    public EngineBuilder Tune(Func<PipelineOptions, PipelineOptions> tune) { _tune = tune; return this; }

    /// <summary>Where a closed --show window asks the run to stop.</summary>
    public EngineBuilder StopWith(CancellationTokenSource stop) { _stop = stop; return this; }

    /// <summary>
    /// Opens everything and returns the engine, ready to run. Bad input (a source that cannot open, an output that
    /// would overwrite an input, a bus that cannot be reached) throws before any output exists; whatever was opened
    /// by then is closed again.
    /// </summary>
    public async Task<Engine> BuildAsync()
    {
        var owned = new Parts();
        try
        {
            return await BuildAsync(settings, owned);
        }
        catch
        {
            foreach (var o in owned.InOrder()) await o.DisposeAsync();
            throw;
        }
    }

    /// <summary>What the engine owns, closed in this order: sinks, sources and renderers, servers, the model.</summary>
    private sealed class Parts
    {
        public List<IAsyncDisposable> Sinks { get; } = [];
        public List<IAsyncDisposable> Sources { get; } = [];
        public List<IAsyncDisposable> Servers { get; } = [];
        public List<IAsyncDisposable> Models { get; } = [];
        public List<IAsyncDisposable> InOrder() => [.. Sinks, .. Sources, .. Servers, .. Models];
    }

    private async Task<Engine> BuildAsync(EngineSettings s, Parts owned)
    {
        // The elements whose sources open through SourceFactory by scheme (ros2:), registered before anything opens.
        Ros2Element.Register();
        var cameras = CamerasOf(s);
        // Before anything opens: outputs that would overwrite a source or each other, an unwritable --stats-json.
        OutputTargets.Check(s);
        if (s.Ros2 is not null) CycloneDds.EnsureAvailable("--ros2"); // before the model loads: the install line at once
        if (s.Token is null && EngineOptionSet.Exposed(s.Serve, s.Foxglove, s.Feed, s.Metrics) is { Count: > 0 } open)
            log.Warning($"serving without a token beyond loopback ({string.Join(", ", open)}, --allow-anonymous): anyone who can reach it can " +
                "watch and change the view.");
        var (model, warm) = _model is { } given ? (given, (0.0, 0)) : OpenModel(s, cameras.Count, owned);
        var pipeline = new EnginePipeline(model, _tune(new PipelineOptions
        {
            MaxFrames = s.MaxFrames, ForceLive = s.Realtime ? true : null, MaxBatch = s.Batch, BatchTimeout = s.BatchTimeout,
            StopOnCameraFailure = s.StopOnCameraFailure, Sync = s.Sync,
        }), log);
        // Every source opens before any output exists: a bad source leaves no folder and no file behind.
        var sinks = new List<List<IFrameSink>>();
        if (_sources is not null && _sources.Count != cameras.Count)
            throw new InvalidOperationException($"{_sources.Count} sources given for {cameras.Count} cameras");
        foreach (var camera in cameras)
        {
            var c = s.ForCamera(camera);
            var (source, renderer) = _sources?[sinks.Count] ?? (SourceFactory.Open(c.Source, new SourceOptions
            {
                Realtime = c.Realtime, Camera = c.Camera, Events = Events(camera, cameras.Count),
                Calibration = c.Calibration, Undistort = c.Undistort
            }), new FrameRenderer(model.Info, c.Render));
            owned.Sources.Add(source);
            if (_sources is null) owned.Sources.Add(new Disposing((IDisposable)renderer));
            // The stats belong to this camera: the pipeline fills them, the servers and the HUD read them.
            var stats = PipelineStats.For(source, model, new LiveQuality(model.Info.Labels.Count));
            pipeline.AddCamera(camera.Name, source, new ModelPostProcessor(c.Smooth), renderer, stats, c.Realtime ? true : null);
            sinks.Add([]);
        }
        var publishers = await AddPublishersAsync(s, cameras, pipeline, model, owned);
        AddRos2(s, cameras, pipeline, model, owned);
        if (s.Save)
        {
            s = s.WithRunFolder();
            OutputTargets.Check(s);
        }
        if (s.RunFolder is not null) WriteArgs(s, model);
        var recorders = new List<VideoRecorderSink?>();
        for (var i = 0; i < cameras.Count; i++)
        {
            var camera = cameras[i];
            var c = s.ForCamera(camera);
            if (cameras.Count > 1 && c.Record is { } rec && Path.GetDirectoryName(Path.GetFullPath(rec)) is { } dir)
                Directory.CreateDirectory(dir);
            var writers = new List<IFrameSink>();
            recorders.Add(AddWriters(c, pipeline.Cameras[i].Source, model, writers, Events(camera, cameras.Count)));
            if (i == 0 && _extraSinks is { } extra) writers.AddRange(extra(model.Info));
            foreach (var sink in writers) { pipeline.Cameras[i].Attach(sink); owned.Sinks.Add(sink); }
        }
        AddMcap(s, cameras, pipeline, model, owned);
        await AddServersAsync(s, cameras, pipeline, model, owned);
        var grid = AddGrid(s, cameras, pipeline, owned);
        Describe(s, model, pipeline, warm);
        return new Engine(s, pipeline, model, warm, recorders, publishers, grid, owned.InOrder(), log, messages);
    }

    private IEventLog Events(NamedSource camera, int count) => count > 1 ? new PrefixedEventLog($"camera {camera.Name}: ", log) : log;

    /// <summary>The model, warmed up (GPU initialisation, graph capture, the batched shapes) before any source opens.</summary>
    private (IMtlModel, (double, int)) OpenModel(EngineSettings s, int cameras, Parts owned)
    {
        ExecutionProviders.ConfigureLogging(s.Verbose);
        var maxBatch = Math.Max(1, s.Batch ?? cameras);
        // Several cameras on a CPU of 2 or more cores: two runs in flight, one thread each on 2 cores, as Triton's
        // instance groups do (./rtmtl bench --cameras measures it); one camera stays one run at a time.
        var instances = s.ModelInstances ?? (cameras > 1 && s.Device == ExecutionDevice.Cpu && (s.Threads > 0 ? s.Threads
            : Environment.ProcessorCount) >= 2 ? 2 : 1);
        var model = new OnnxMtlModel(s.ModelPath, new ModelOptions
        {
            Device = s.Device, Threads = s.Threads, TensorRtCache = s.TrtCache,
            Gpu = new GpuOptions { Path = s.GpuPath }, MaxBatch = maxBatch, Instances = instances
        }, log);
        owned.Models.Add(new Disposing(model));
        if (s.StrictDevice && s.Device is ExecutionDevice.Cuda or ExecutionDevice.TensorRt && model.Device != s.Device)
            throw new ArgumentException($"--device {s.Device.ToString().ToLowerInvariant()} could not start here (the run would use " +
                $"{model.Device.ToString().ToLowerInvariant()}; --strict-device refuses that); ./rtmtl doctor shows what is missing.");
        // Before the sources open, so no statistic (and no live recording's clock) ever sees it.
        var warm = model.WarmUp();
        // The batched shapes' first runs on every instance, also before the clock: a whole batch, and the share
        // each instance takes when they all start together.
        var perRun = Math.Min(model.MaxBatch, s.Sync is null ? maxBatch : cameras);
        for (var k = 0; k < model.Instances; k++)
            foreach (var size in new[] { perRun, (perRun + model.Instances - 1) / model.Instances }.Distinct())
                if (size > 1 || k > 0) model.Instance(k).RunBatch(size);
        return (model, (warm.TotalMs, warm.Runs));
    }

    /// <summary>--publish: each camera's results on the bus, connected before any output exists.</summary>
    private async Task<List<NatsFramePublisher>> AddPublishersAsync(EngineSettings s, IReadOnlyList<NamedSource> cameras, EnginePipeline pipeline,
        IMtlModel model, Parts owned)
    {
        var publishers = new List<NatsFramePublisher>();
        if (s.Publish is not { } bus) return publishers;
        var one = cameras.Count == 1;
        for (var i = 0; i < cameras.Count; i++)
        {
            var camera = pipeline.Cameras[i];
            var c = s.ForCamera(cameras[i]);
            // One camera publishes on the bus options' own subject; each of several on rtmtl.frames.NAME, with its own frame id.
            var publisher = new NatsFramePublisher(one ? bus with { FrameId = s.FrameId, EveryFrame = !(camera.Source.IsLive || s.Realtime) }
                : bus with
                {
                    Camera = camera.Name,
                    FrameId = FrameIdOf(cameras[i]),
                    EveryFrame = !(camera.Source.IsLive || c.Realtime),
                }, model.Info.Labels);
            owned.Sinks.Add(publisher);
            await publisher.StartAsync();
            camera.Attach(publisher);
            publishers.Add(publisher);
        }
        if (s.Quiet) return publishers;
        var subject = one ? publishers[0].Subject : $"rtmtl.frames.{{{string.Join(",", cameras.Select(c => c.Name))}}}";
        messages.WriteLine($"publishing: {subject} on {bus.Endpoint?.Display} (message rtmtl.feed.v1.FeedFrame, protos/rtmtl_feed.proto)");
        return publishers;
    }

    /// <summary>--ros2: the engine as a ROS 2 node, every camera's topics on one DDS participant.</summary>
    private void AddRos2(EngineSettings s, IReadOnlyList<NamedSource> cameras, EnginePipeline pipeline, IMtlModel model, Parts owned)
    {
        if (s.Ros2 is not { } options) return;
        var ros2 = new Ros2PublisherSink(options, model.Info.Labels, cameras.Select(c =>
            (c.Name, cameras.Count == 1 ? s.ForCamera(c).FrameId : FrameIdOf(c), !Ros2SourceSpec.Is(c.Spec))).ToList(), log);
        owned.Servers.Add(ros2);
        for (var i = 0; i < pipeline.Cameras.Count; i++) pipeline.Cameras[i].Attach(ros2.CameraSink(i));
        if (!s.Quiet) messages.WriteLine($"ros2: publishing {ros2.Describe()}");
    }

    /// <summary>The sinks that write or show frames: recorder, raw outputs, window, point clouds. Returns the recorder.</summary>
    private VideoRecorderSink? AddWriters(EngineSettings s, IFrameSource source, IMtlModel model, List<IFrameSink> sinks, IEventLog events)
    {
        VideoRecorderSink? recorder = null;
        if (s.Record is not null)
        {
            // The source's nominal rate; live runs place frames on its time grid by capture time.
            recorder = new VideoRecorderSink(new RecorderOptions
            {
                Path = s.Record, Fps = source.NominalFps ?? 30, Live = source.IsLive || s.Realtime, Codec = s.RecordCodec,
                FollowMediaTime = !(source.IsLive || s.Realtime) && source.TimedByMedia,
                PreferNvenc = model.DeviceName != "cpu",
            }, events);
            sinks.Add(recorder);
        }
        if (s.SaveRaw is not null)
        {
            // Raw outputs are named after the input: a video file's frames as NAME_NNNNNN (image folders name each file).
            var file = OutputTargets.SourcePath(s.Source) is { } path && File.Exists(path) ? Path.GetFileNameWithoutExtension(path) : null;
            sinks.Add(new RawOutputSink(s.SaveRaw, model.Info.Labels.Classes, file));
        }
        if (s.Show && Window(events) is { } window) sinks.Add(window);
        if (s.SavePointCloud is not null) sinks.Add(new PointCloudSink(s.SavePointCloud, s.PointCloudEvery, model.Info.Labels, events));
        return recorder;
    }

    private WindowSink? Window(IEventLog events)
    {
        var window = new WindowSink(events);
        window.CloseRequested += () => _stop?.Cancel();
        return window.Active ? window : null;
    }

    /// <summary>--record-mcap: one MCAP file for every camera (topics /rtmtl/... for one camera, /NAME/... for each of several).</summary>
    private void AddMcap(EngineSettings s, IReadOnlyList<NamedSource> cameras, EnginePipeline pipeline, IMtlModel model, Parts owned)
    {
        if (s.RecordMcap is not { } path) return;
        // The run folder's is made here; a folder the user names must exist (as for --record).
        if (s.RunFolder is not null && Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        var mcap = new McapRecorderSink(path, model.Info.Labels,
            cameras.Count == 1 ? [("rtmtl", s.FrameId)] : cameras.Select(c => (c.Name, FrameIdOf(c))).ToList(), log, s.McapCompression);
        owned.Servers.Add(mcap);
        for (var i = 0; i < pipeline.Cameras.Count; i++) pipeline.Cameras[i].Attach(mcap.CameraSink(i));
    }

    private static string FrameIdOf(NamedSource camera) => camera.FrameId ?? $"{camera.Name}_optical_frame";

    /// <summary>
    /// The servers, each started and listening: --metrics alone, the web view (with its /metrics), Foxglove and the
    /// gRPC feed. Each serves every camera; with one camera, its single-camera paths and topics.
    /// </summary>
    private async Task AddServersAsync(EngineSettings s, IReadOnlyList<NamedSource> cameras, EnginePipeline pipeline, IMtlModel model,
        Parts owned)
    {
        var one = cameras.Count == 1;
        var each = pipeline.Cameras;
        var named = each.Select(c => (c.Name, c.Stats)).ToList();
        var batches = one ? null : pipeline.Batches;
        if (s.Metrics is { } metricsAt)
        {
            var alone = new EngineMetrics(named, ExecutionProviders.RuntimeVersion, batches);
            for (var i = 0; i < each.Count; i++) each[i].Attach(alone.Camera(i));
            var server = new MetricsServer(new ServeOptions { Endpoint = metricsAt, Token = s.Token }, alone);
            owned.Servers.Add(server);
            await server.StartAsync();
            messages.WriteLine($"metrics: http://{server.Endpoint}/metrics{(s.Token is null ? "" : " (token required)")}");
        }
        if (s.Serve is not null)
        {
            var metrics = new EngineMetrics(named, ExecutionProviders.RuntimeVersion, batches);
            var options = new ServeOptions { Endpoint = s.Serve, Token = s.Token, MaxViewers = s.MaxViewers, WriteDeadline = s.ViewerTimeout };
            var web = new WebViewServer(options,
                each.Select((c, i) => new WebViewServer.Camera(c.Name, c.Stats,
                    new RendererControl(new FrameRenderer(model.Info, s.ForCamera(cameras[i]).Render)))).ToList(), model.Info.Labels, metrics);
            owned.Servers.Add(web);
            await web.StartAsync();
            for (var i = 0; i < each.Count; i++) each[i].Attach(metrics.Camera(i)).Attach(web.CameraSink(i)).Attach(web.ClassesSink(i));
            var token = s.Token is null ? "" : "?token=...";
            messages.WriteLine(one ? $"web view: {web.BaseUri}{token}  (stream /stream.mjpg, stats /api/stats, metrics /metrics)"
                : $"web view: {web.BaseUri}{token}  (all {cameras.Count} cameras; streams /stream/NAME.mjpg, stats /api/stats, metrics /metrics)");
        }
        if (s.Foxglove is not null)
        {
            var options = new ServeOptions { Endpoint = s.Foxglove, Token = s.Token, MaxViewers = s.MaxViewers };
            var fox = one ? new FoxgloveServer(options, model.Info.Labels, FeedOptions(s))
                : new FoxgloveServer(options, model.Info.Labels, cameras.Select(c => (c.Name, FrameIdOf(c))).ToList());
            owned.Servers.Add(fox);
            await fox.StartAsync();
            for (var i = 0; i < each.Count; i++) each[i].Attach(fox.CameraSink(i));
            messages.WriteLine(one ? $"foxglove: ws://{fox.Endpoint} (subprotocol {FoxgloveServer.SubProtocol})"
                : $"foxglove: ws://{fox.Endpoint} (subprotocol {FoxgloveServer.SubProtocol}; topics /NAME/image, /NAME/labels, /NAME/depth, " +
                    "/NAME/camera_info, /NAME/points per camera)");
        }
        if (s.Feed is not null)
        {
            var options = new ServeOptions { Endpoint = s.Feed, Token = s.Token, MaxViewers = s.MaxViewers };
            var feed = one ? new FeedServer(options, model.Info, each[0].Stats, FeedOptions(s))
                : new FeedServer(options, model.Info, each[0].Stats, FeedOptions(s), cameras.Select(c => (c.Name, FrameIdOf(c))).ToList(),
                    s.Sync?.TotalMilliseconds);
            owned.Servers.Add(feed);
            await feed.StartAsync();
            for (var i = 0; i < each.Count; i++) each[i].Attach(feed.CameraSink(i));
            messages.WriteLine(one ? $"feed: gRPC (h2c) at {feed.Endpoint}, contract protos/rtmtl_feed.proto"
                : $"feed: gRPC (h2c) at {feed.Endpoint}, contract protos/rtmtl_feed.proto ({cameras.Count} " +
                    $"cameras{(s.Sync is null ? "" : ", synchronised sets with SubscribeSets")})");
        }
    }

    /// <summary>--layout grid: one mosaic of every camera's overlay, recorded and/or shown.</summary>
    private (VideoRecorderSink, Mosaic)? AddGrid(EngineSettings s, IReadOnlyList<NamedSource> cameras, EnginePipeline pipeline, Parts owned)
    {
        if (!s.Grid || (s.GridRecord is null && !s.Show)) return null;
        var outputs = new List<IFrameSink>();
        VideoRecorderSink? recorder = null;
        if (s.GridRecord is { } path)
        {
            var fps = pipeline.Cameras[0].Source.NominalFps ?? 30;
            recorder = new VideoRecorderSink(new RecorderOptions { Path = path, Fps = fps, Codec = s.RecordCodec }, log);
            outputs.Add(recorder);
        }
        if (s.Show && Window(log) is { } window) outputs.Add(window);
        var mosaic = new Mosaic(cameras.Select(c => c.Name).ToList(), 480, outputs);
        owned.Servers.Insert(0, mosaic);
        for (var i = 0; i < pipeline.Cameras.Count; i++) pipeline.Cameras[i].Attach(mosaic.Input(i));
        return recorder is null ? null : (recorder, mosaic);
    }

    /// <summary>The line that says what runs: model, device, cameras, batching, warm-up.</summary>
    private void Describe(EngineSettings s, IMtlModel model, EnginePipeline pipeline, (double TotalMs, int Runs) warm)
    {
        var each = pipeline.Cameras;
        var onnx = model as OnnxMtlModel;
        var over = each.Count == 1 ? each[0].Source.Description
            : $"{each.Count} cameras ({string.Join(", ", each.Select(c => $"{c.Name}: {c.Source.Description}"))}), batches of up " +
                $"to {pipeline.BatchSize}" + (model.Instances > 1
                    ? $" on {model.Instances} model instances at once ({OnnxMtlModel.ThreadsPerInstance(s.Threads, model.Instances)} thread(s) each)"
                    : "");
        var device = onnx is null || onnx.Device == ExecutionDevice.Cpu ? model.DeviceName
            : $"{model.DeviceName} ({onnx.GpuPath.ToString().ToLowerInvariant()})";
        log.Info($"running {model.Info.Name} ({model.Info.Architecture}, {model.Info.InputWidth}x{model.Info.InputHeight}) on {device} " +
            $"over {over}; warm-up {warm.TotalMs:0} ms ({warm.Runs} runs)");
    }

    /// <summary>args.json in the run folder: the command, every option as resolved, the version and commit, the folder it ran in.</summary>
    private static void WriteArgs(EngineSettings s, IMtlModel model)
    {
        var (version, commit) = EngineMetrics.BuildVersion();
        var args = new Dictionary<string, object?>
        {
            ["schema_version"] = 1, ["command"] = "run", ["version"] = version, ["commit"] = commit,
            ["working_directory"] = Environment.CurrentDirectory,
            ["model"] = Path.GetFullPath(s.ModelPath), ["device"] = model.DeviceName, ["options"] = s.Args,
        };
        RealtimeMtl.Common.Files.AtomicFile.Write(Path.Combine(s.RunFolder!, "args.json"),
            System.Text.Json.JsonSerializer.Serialize(args, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    private static FeedOptions FeedOptions(EngineSettings s) => new() { FrameId = s.FrameId, Image = s.FeedImage, Calibration = s.Calibration };

    /// <summary>An <see cref="IDisposable"/> the engine owns, closed with the rest.</summary>
    private sealed class Disposing(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() { inner.Dispose(); return ValueTask.CompletedTask; }
    }
}
