using System.Diagnostics;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Metrics;

/// <summary>
/// What the engine measures while it runs: frames, drops, per-stage and end-to-end latency, FPS, live quality, sink
/// faults. Created by the caller and handed to the pipeline and to every sink or server that shows figures.
/// </summary>
public sealed class PipelineStats
{
    private long _framesIn, _framesOut, _droppedAtSource, _droppedAtViewers;
    private readonly long _startTicks = Stopwatch.GetTimestamp();
    private long _firstOutTicks, _lastOutTicks;
    private readonly Dictionary<string, long> _sinkErrors = [];
    private readonly Lock _sinkGate = new();

    /// <summary>Stats named after a source and a model (the source's own drop counter included).</summary>
    public static PipelineStats For(IFrameSource source, IMtlModel model, IQualityMeter? quality = null) => new()
    {
        Device = model.DeviceName, ModelName = model.Info.Name, SourceName = source.Description,
        SourceInternalDrops = () => source.DroppedInternally, Quality = quality,
    };

    public LatencyRecorder Capture { get; } = new("capture");
    public LatencyRecorder Pre { get; } = new("pre");
    public LatencyRecorder Model { get; } = new("model");
    public LatencyRecorder Post { get; } = new("post");
    public LatencyRecorder Infer { get; } = new("infer");
    public LatencyRecorder Render { get; } = new("render");
    public LatencyRecorder EndToEnd { get; } = new("end-to-end");
    public Dictionary<string, LatencyRecorder> Sinks { get; } = [];

    /// <summary>Live scoring against ground truth (sources that have it); null: not measured.</summary>
    public IQualityMeter? Quality { get; init; }

    public long FramesIn => Interlocked.Read(ref _framesIn);
    public long FramesOut => Interlocked.Read(ref _framesOut);
    /// <summary>Frames dropped before inference: by the pipeline's live channel and inside the source itself.</summary>
    public long DroppedAtSource => Interlocked.Read(ref _droppedAtSource) + (SourceInternalDrops?.Invoke() ?? 0);

    /// <summary>The source's own drop counter (a network stream's newest-frame queue), read live.</summary>
    public Func<long>? SourceInternalDrops { get; set; }
    public long DroppedAtViewers => Interlocked.Read(ref _droppedAtViewers);

    public string Device { get; set; } = "cpu";
    public string ModelName { get; set; } = "";
    public string SourceName { get; set; } = "";

    public void FrameIn() => Interlocked.Increment(ref _framesIn);

    private long _notDrawn;

    /// <summary>Frames that no output showed, so none was drawn (no recorder, window or viewer wanted the picture).</summary>
    public long FramesNotDrawn => Interlocked.Read(ref _notDrawn);
    public void PictureSkipped() => Interlocked.Increment(ref _notDrawn);
    public void SourceDrop() => Interlocked.Increment(ref _droppedAtSource);
    public void ViewerDrop() => Interlocked.Increment(ref _droppedAtViewers);

    private long _viewersEvicted;
    /// <summary>Viewers (MJPEG clients) dropped because they stopped reading for longer than the write deadline.</summary>
    public long ViewersEvicted => Interlocked.Read(ref _viewersEvicted);
    public void ViewerEvicted() => Interlocked.Increment(ref _viewersEvicted);

    public void FrameOut(long ticks)
    {
        if (Interlocked.Increment(ref _framesOut) == 1) _firstOutTicks = ticks;
        _lastOutTicks = ticks;
    }

    /// <summary>Stopwatch ticks of the first and the latest frame out (0 before the first).</summary>
    public long FirstOutTicks => _firstOutTicks;
    public long LastOutTicks => _lastOutTicks;

    /// <summary>Frames rendered per second over the run so far: the frames after the first, over the time from the first
    /// frame out to the latest (the run's summary says the same of several cameras).</summary>
    public double Fps
    {
        get
        {
            var n = FramesOut;
            if (n < 2) return double.NaN;
            var seconds = (_lastOutTicks - _firstOutTicks) / (double)Stopwatch.Frequency;
            return seconds > 0 ? (n - 1) / seconds : double.NaN;
        }
    }

    /// <summary>Instantaneous rate over the latest frames (for the HUD).</summary>
    public double RecentFps => Render.Count < 2 ? double.NaN : 1000.0 / Math.Max(1e-3, _recentPeriodMs);
    private double _recentPeriodMs = double.NaN;
    private long _prevOutTicks;

    public void MarkOutput(long ticks)
    {
        if (_prevOutTicks != 0)
        {
            var ms = (ticks - _prevOutTicks) * 1000.0 / Stopwatch.Frequency;
            _recentPeriodMs = double.IsNaN(_recentPeriodMs) ? ms : _recentPeriodMs * 0.9 + ms * 0.1;
        }
        _prevOutTicks = ticks;
        FrameOut(ticks);
    }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTicks);

    /// <summary>Working set, open handles and live frame packets, sampled every <see cref="ResourceEvery"/> frames.</summary>
    public List<ResourceSample> Resources { get; } = [];
    public const int ResourceEvery = 100;

    public void SampleResources(long frame)
    {
        var sample = ResourceSample.Now(frame, Stages.FramePacket.Live);
        lock (Resources) { if (Resources.Count < 10_000) Resources.Add(sample); }
    }

    public QualityFigures QualitySnapshot() => Quality?.Snapshot() ?? QualityFigures.None;

    private readonly List<Action<LatencyRecorder>> _sinkHooks = [];

    /// <summary>Calls <paramref name="hook"/> for every sink's write-time recorder: those there now and each one created later (a sink's first
    /// frame).</summary>
    public void OnSinkRecorder(Action<LatencyRecorder> hook)
    {
        lock (_sinkGate)
        {
            _sinkHooks.Add(hook);
            foreach (var r in Sinks.Values) hook(r);
        }
    }

    public LatencyRecorder SinkRecorder(string sink)
    {
        lock (_sinkGate)
        {
            if (!Sinks.TryGetValue(sink, out var r))
            {
                Sinks[sink] = r = new LatencyRecorder(sink);
                foreach (var hook in _sinkHooks) hook(r);
            }
            return r;
        }
    }

    public void SinkError(string sink)
    {
        lock (_sinkGate) _sinkErrors[sink] = _sinkErrors.GetValueOrDefault(sink) + 1;
    }

    public IReadOnlyDictionary<string, long> SinkErrors { get { lock (_sinkGate) return new Dictionary<string, long>(_sinkErrors); } }
}
