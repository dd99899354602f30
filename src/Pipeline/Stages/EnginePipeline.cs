using System.Threading.Channels;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// The engine, for one camera or many, one task per stage and bounded channels between them:
///   per camera: capture --Captured--> (shared by all cameras: the stream muxer, <see cref="StreamMuxer"/>, and the
///   model runner, <see cref="ModelRunner"/>) --ModelResults--> post --Inferred--> render --> sink fan-out.
///   Captured:     live sources drop the oldest frame (counted); files wait (nothing lost).
///   ModelResults: a camera's model results, in its order, each in one of its post stage's three output buffers.
///   Inferred:     waits (inference output is never thrown away).
///   sink channels: one per sink; lossless sinks wait, viewers drop the oldest.
/// One camera is the same engine with N = 1 (a batch of one, run at once). Cameras are added with
/// <see cref="AddCamera"/> and their sinks with <see cref="EngineCamera.Attach"/> before <see cref="RunAsync"/>.
/// A camera whose source fails ends alone (reported once, its sinks finalised; <see cref="PipelineOptions.StopOnCameraFailure"/>
/// ends every camera instead); a model failure ends them all. Stopping (token, end of input, MaxFrames) completes
/// the capture channels; completion flows downstream, every channel drains and every sink is finalised.
/// </summary>
public sealed class EnginePipeline
{
    private readonly IMtlModel _model;
    private readonly PipelineOptions _options;
    private readonly IEventLog _log;
    private readonly List<EngineCamera> _cameras = [];
    private bool _started;

    /// <summary>Whether the run has begun (cameras and sinks are added before it).</summary>
    internal bool Started => _started;

    /// <summary>The engine with no camera yet (add them with <see cref="AddCamera"/>).</summary>
    public EnginePipeline(IMtlModel model, PipelineOptions? options = null, IEventLog? log = null)
    {
        _model = model;
        _options = options ?? new PipelineOptions();
        _log = log ?? TextEventLog.StandardError;
    }

    public IReadOnlyList<EngineCamera> Cameras => _cameras;

    /// <summary>The muxer's and model runner's figures (model runs, batch sizes, sets), filled by the run.</summary>
    public BatchStats Batches { get; } = new();

    /// <summary>
    /// Adds a camera with its own post-processing (state such as smoothing is per camera), renderer and stats;
    /// <paramref name="live"/> overrides whether it is treated as live (null: <see cref="PipelineOptions.ForceLive"/>, else the source).
    /// </summary>
    public EngineCamera AddCamera(string name, IFrameSource source, IPostProcessor post, IFrameRenderer renderer, PipelineStats stats,
        bool? live = null)
    {
        if (_started) throw new InvalidOperationException($"camera {name}: add cameras before RunAsync");
        if (_cameras.Any(c => c.Name == name)) throw new
            ArgumentException($"two cameras are named '{name}'; give each --source its own name (NAME=SOURCE)");
        var camera = new EngineCamera(this, name, source, post, renderer, stats, live ?? _options.ForceLive ?? source.IsLive);
        _cameras.Add(camera);
        return camera;
    }

    /// <summary>
    /// Frames per model run: --batch, or every camera. With several model instances and a live camera, the cameras
    /// are shared out over the instances instead, so that frames arriving together run at once on every instance
    /// (lower latency); files fill whole batches (more frames per second). With --sync-ms, a whole set.
    /// </summary>
    public int BatchSize => Math.Clamp(
        _options.Sync is not null ? _cameras.Count
        : _options.MaxBatch ?? (_model.Instances > 1 && _cameras.Any(c => c.IsLive) ? (_cameras.Count + _model.Instances - 1) / _model.Instances
            : _cameras.Count),
        1, Math.Max(1, _model.MaxBatch));

    /// <summary>
    /// Runs until every source ends, <see cref="PipelineOptions.MaxFrames"/>, or <paramref name="stop"/> (graceful:
    /// drains and finalises). What it returns says how each camera ended, with its stats.
    /// </summary>
    public async Task<EngineRun> RunAsync(CancellationToken stop = default)
    {
        if (_started) throw new InvalidOperationException("a pipeline runs once");
        if (_cameras.Count == 0) throw new InvalidOperationException("the engine has no camera");
        _started = true;
        var maxBatch = BatchSize;
        var timeout = _options.BatchTimeout ?? DefaultTimeout();

        // Downstream stages never see the stop token: they drain what is in flight, so nothing is lost on Ctrl+C.
        // A stage fault cancels every source (a file source would otherwise wait forever on a full channel).
        using var fault = new StageFault();
        using var captureStop = CancellationTokenSource.CreateLinkedTokenSource(stop, fault.Token);
        var overReleasedBefore = FramePacket.OverReleased;
        var changedBefore = FramePacket.ChangedWhileShared;
        var runs = _cameras.Select(c => new CameraRun(c, _model, _options, _log, prefix: _cameras.Count > 1)).ToList();
        using var ready = new ReadySignal();
        var tasks = new List<Task>();
        foreach (var run in runs)
        {
            tasks.Add(Task.Run(async () =>
            {
                await run.Capture.RunAsync(run.Captured.Writer, captureStop.Token, fault, ready).ConfigureAwait(false);
                if (run.Capture.SourceError is not null && _options.StopOnCameraFailure && runs.Count > 1)
                {
                    _log.Warning($"camera {run.Camera.Name} failed; --on-camera-failure stop ends every camera");
                    await captureStop.CancelAsync().ConfigureAwait(false);
                }
            }));
            tasks.Add(Task.Run(() => run.Post.RunAsync(run.Inferred.Writer, fault)));
            tasks.Add(Task.Run(() => run.Render.RunAsync(run.Inferred.Reader, run.FanOut)));
            tasks.AddRange(run.FanOut.Start());
        }
        var muxer = new StreamMuxer(runs.Select(r => new StreamMuxer.Input(r.Camera.Name, r.Captured.Reader, r.Camera.IsLive)).ToList(), maxBatch,
            timeout, Batches, _options.Sync, ready);
        var runner = new ModelRunner(_model, maxBatch, Batches);
        tasks.Add(Task.Run(() => runner.RunAsync(muxer, runs.Select(r => r.Post).ToList(), fault)));
        await Task.WhenAll(tasks).ConfigureAwait(false);
        var interrupted = stop.IsCancellationRequested;
        var ends = new List<EngineRun.CameraEnd>();
        foreach (var run in runs)
        {
            // Frames a source queued after a fault never reached inference: release them.
            while (run.Captured.Reader.TryRead(out var left)) left.Dispose();
            run.Post.Infer.ClearPool();
            run.Post.Dispose();
            run.Camera.Stats.SampleResources(run.Camera.Stats.FramesOut);
            ends.Add(new EngineRun.CameraEnd(run.Camera.Name, run.Camera.Stats, run.Capture.SourceError, fault.Message ?? run.Render.Failure));
        }
        if (FramePacket.OverReleased - overReleasedBefore is > 0 and var over)
            _log.Warning($"{over} frame packet release(s) past zero during this run (a sink or stage released a packet it no longer held); please " +
                $"report it");
        if (FramePacket.ChangedWhileShared - changedBefore is > 0 and var changed)
            _log.Warning($"{changed} frame packet(s) changed while sinks shared them (a sink drew into a shared frame after its write returned); " +
                $"please report it");
        return new EngineRun(ends, Batches, timeout, _options.Sync, Math.Max(1, _model.Instances), interrupted);
    }

    /// <summary>Half the fastest camera's frame interval (15 ms when no camera says its rate).</summary>
    private TimeSpan DefaultTimeout()
    {
        var fastest = _cameras.Select(c => c.Source.NominalFps ?? 0).DefaultIfEmpty(0).Max();
        return fastest > 0 ? TimeSpan.FromSeconds(0.5 / fastest) : TimeSpan.FromMilliseconds(15);
    }

    /// <summary>One camera's channels and stages for one run.</summary>
    private sealed class CameraRun
    {
        public CameraRun(EngineCamera camera, IMtlModel model, PipelineOptions options, IEventLog log, bool prefix)
        {
            Camera = camera;
            IEventLog named = prefix ? new PrefixedEventLog($"camera {camera.Name}: ", log) : log;
            Captured = camera.IsLive
                ? Channel.CreateBounded<Frame>(new BoundedChannelOptions(options.LiveCapacity)
                {
                    FullMode = BoundedChannelFullMode.DropOldest,
                    SingleReader = true, SingleWriter = true
                },
                    dropped => { dropped.Dispose(); camera.Stats.SourceDrop(); })
                : Channel.CreateBounded<Frame>(new BoundedChannelOptions(options.FileCapacity)
                {
                    FullMode = BoundedChannelFullMode.Wait,
                    SingleReader = true, SingleWriter = true
                });
            Inferred = Channel.CreateBounded<FramePacket>(new BoundedChannelOptions(2)
            {
                FullMode = BoundedChannelFullMode.Wait, SingleReader = true,
                SingleWriter = true
            });
            Capture = new CaptureStage(camera.Source, camera.Stats, camera.IsLive, options.MaxFrames, named);
            Post = new PostStage(new InferStage(model, camera.Post, camera.Stats, options.MeasureQuality ? camera.Stats.Quality : null));
            Render = new RenderStage(camera.Renderer, camera.Stats, named) { FirstFrameOut = camera.RaiseFirstFrameOut };
            FanOut = new SinkFanOut(camera.Sinks, options.FileCapacity, camera.Stats, named);
        }

        public EngineCamera Camera { get; }
        /// <summary>Frames from the capture stage to the muxer.</summary>
        public Channel<Frame> Captured { get; }
        /// <summary>Post-processed packets from the post stage to the render stage.</summary>
        public Channel<FramePacket> Inferred { get; }
        public CaptureStage Capture { get; }
        public PostStage Post { get; }
        public RenderStage Render { get; }
        public SinkFanOut FanOut { get; }
    }
}

/// <summary>One camera of the engine: its source, post-processing, renderer, stats and sinks.</summary>
public sealed class EngineCamera
{
    private readonly List<IFrameSink> _sinks = [];

    private readonly EnginePipeline _engine;

    internal EngineCamera(EnginePipeline engine, string name, IFrameSource source, IPostProcessor post, IFrameRenderer renderer,
        PipelineStats stats, bool live)
    {
        _engine = engine; Name = name; Source = source; Post = post; Renderer = renderer; Stats = stats; IsLive = live;
    }

    public string Name { get; }
    public IFrameSource Source { get; }
    public IPostProcessor Post { get; }
    public IFrameRenderer Renderer { get; }
    public PipelineStats Stats { get; }
    public bool IsLive { get; }
    public IReadOnlyList<IFrameSink> Sinks => _sinks;

    /// <summary>Raised once, when this camera's first frame has been drawn and handed to its sinks (the readiness moment).</summary>
    public event Action? FirstFrameOut;

    internal void RaiseFirstFrameOut() => FirstFrameOut?.Invoke();

    /// <summary>Adds a sink that gets this camera's frames; only before the run starts.</summary>
    public EngineCamera Attach(IFrameSink sink)
    {
        if (_engine.Started) throw new InvalidOperationException($"sink {sink.Name}: attach sinks before RunAsync");
        _sinks.Add(sink);
        return this;
    }
}
