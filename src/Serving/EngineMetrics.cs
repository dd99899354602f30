using Prometheus;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Serving;

/// <summary>
/// Prometheus metrics of the engine (prometheus-net, own registry, names prefixed rtmtl_, Prometheus naming
/// conventions: base units, _seconds histograms, _total counters, an _info gauge): stage latency histograms observed
/// per frame (this is a cheap lossless sink, one per camera), and FPS, frames, drops, device, sink errors, live quality
/// and build information read from each camera's <see cref="PipelineStats"/> at scrape time; per-camera series carry a
/// <c>camera</c> label (cam0 for a single camera), and the stream muxer's batch sizes are a histogram.
/// </summary>
public sealed class EngineMetrics : IFrameSink
{
    private static readonly double[] Buckets = [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1];
    private readonly Histogram _stage;
    private readonly Counter _frames;
    private readonly string[] _cameras;

    /// <summary>One camera, named cam0. <paramref name="runtime"/>: the inference runtime and its version, for rtmtl_build_info.</summary>
    public EngineMetrics(PipelineStats stats, string runtime) : this([("cam0", stats)], runtime, null) { }

    /// <summary>
    /// Several cameras: every per-camera series has a <c>camera</c> label; with the stream muxer's
    /// <paramref name="batches"/>, rtmtl_batch_size (a histogram of frames per model run) and rtmtl_model_runs_total.
    /// </summary>
    public EngineMetrics(IReadOnlyList<(string Camera, PipelineStats Stats)> cameras, string runtime, BatchStats? batches)
    {
        _cameras = cameras.Select(c => c.Camera).ToArray();
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _stage = f.CreateHistogram("rtmtl_stage_latency_seconds", "Per-frame time spent in each stage, seconds.",
            new HistogramConfiguration { LabelNames = ["stage", "camera"], Buckets = Buckets });
        _frames = f.CreateCounter("rtmtl_frames_total", "Frames rendered.", new CounterConfiguration { LabelNames = ["camera"] });
        var fps = f.CreateGauge("rtmtl_fps", "Frames per second over the run.", new GaugeConfiguration { LabelNames = ["camera"] });
        var dropped = f.CreateCounter("rtmtl_dropped_frames_total", "Frames dropped: at the source (faster than the engine) or skipped by viewers.",
            new CounterConfiguration { LabelNames = ["where", "camera"] });
        var device = f.CreateGauge("rtmtl_device_info", "Execution device of the model (1 for the one in use).",
            new GaugeConfiguration { LabelNames = ["device", "model"] });
        var sinkErrors = f.CreateCounter("rtmtl_sink_errors_total", "Errors per sink.", new CounterConfiguration { LabelNames = ["sink", "camera"] });
        var evicted = f.CreateCounter("rtmtl_viewers_evicted_total", "MJPEG viewers evicted after the write deadline.",
            new CounterConfiguration { LabelNames = ["camera"] });
        var build = f.CreateGauge("rtmtl_build_info", "Build of the engine (always 1).", new GaugeConfiguration
        {
            LabelNames = ["version", "commit",
            "onnxruntime"]
        });
        var (version, commit) = BuildVersion();
        build.WithLabels(version, commit, runtime).Set(1);
        // Sinks (record, mcap, raw, ...): write time per frame, from the first frame, whether or not anyone scrapes.
        var sinkSeconds = f.CreateHistogram("rtmtl_sink_write_seconds", "Per-frame time a sink (record, mcap, raw, ...) spends writing, seconds.",
            new HistogramConfiguration { LabelNames = ["sink", "camera"], Buckets = Buckets });
        foreach (var (camera, stats) in cameras)
            stats.OnSinkRecorder(r => { var child = sinkSeconds.WithLabels(r.Name, camera); r.Added += ms => child.Observe(ms / 1000); });
        // The process and the .NET runtime (prometheus-net's collectors): process_cpu_seconds_total,
        // process_working_set_bytes, process_open_handles, process_num_threads, dotnet_collection_count_total, ...
        DotNetStats.Register(Registry);
        var quality = f.CreateGauge("rtmtl_live_quality", "Live quality against the source's ground truth.",
            new GaugeConfiguration { LabelNames = ["metric", "camera"] });
        if (batches is not null)
        {
            var sizes = f.CreateHistogram("rtmtl_batch_size", "Frames per model run (the stream muxer's batches).",
                new HistogramConfiguration { Buckets = [1, 2, 3, 4, 6, 8, 12, 16, 32, 64] });
            var runSeconds = f.CreateHistogram("rtmtl_model_batch_seconds", "Model time per run (one batch), seconds.",
                new HistogramConfiguration { Buckets = Buckets });
            batches.Ran += (size, ms) => { sizes.Observe(size); runSeconds.Observe(ms / 1000); };
        }
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var (camera, stats) in cameras)
            {
                if (double.IsFinite(stats.Fps)) fps.WithLabels(camera).Set(stats.Fps);
                dropped.WithLabels("source", camera).IncTo(stats.DroppedAtSource);
                dropped.WithLabels("viewers", camera).IncTo(stats.DroppedAtViewers);
                evicted.WithLabels(camera).IncTo(stats.ViewersEvicted);
                device.WithLabels(stats.Device, stats.ModelName).Set(1);
                foreach (var (sink, n) in stats.SinkErrors) sinkErrors.WithLabels(sink, camera).IncTo(n);
                var q = stats.QualitySnapshot();
                if (q.SegPixels > 0) quality.WithLabels("miou", camera).Set(q.MeanIoU);
                if (q.DepthPixels > 0) quality.WithLabels("depth_rmse_m", camera).Set(q.Rmse);
            }
        });
    }

    /// <summary>The sink of camera <paramref name="index"/> (observes its frames' stage times); this object is camera 0's.</summary>
    public IFrameSink Camera(int index) => index == 0 ? this : new CameraSink(Name, true, p => Observe(p, _cameras[index]), usesPicture: false);

    public CollectorRegistry Registry { get; }

    /// <summary>The engine's version and the git commit the SDK put after '+' in the informational version (12 characters).</summary>
    public static (string Version, string Commit) BuildVersion()
    {
        var info = typeof(EngineMetrics).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";
        var plus = info.IndexOf('+');
        return plus > 0 ? (info[..plus], info[(plus + 1)..][..Math.Min(12, info.Length - plus - 1)]) : (info, "unknown");
    }
    public string Name => "metrics";
    /// <summary>Reads labels and depth, never the drawn picture.</summary>
    public bool UsesPicture => false;
    public bool Lossless => true;

    public ValueTask WriteAsync(FramePacket p, CancellationToken cancellationToken) => Observe(p, _cameras[0]);

    private ValueTask Observe(FramePacket p, string camera)
    {
        var f = (double)System.Diagnostics.Stopwatch.Frequency;
        // queued: from the frame's capture to the start of its inference (the capture channel and the stream muxer's wait).
        _stage.WithLabels("queued", camera).Observe(Math.Max(0, p.InferStartTicks - p.CaptureTicks) / f);
        _stage.WithLabels("infer", camera).Observe(Math.Max(0, p.InferEndTicks - p.InferStartTicks) / f);
        _stage.WithLabels("pre", camera).Observe(p.PreMs / 1000);
        _stage.WithLabels("model", camera).Observe(p.ModelMs / 1000);
        _stage.WithLabels("post", camera).Observe(p.PostMs / 1000);
        _stage.WithLabels("render", camera).Observe((p.RenderEndTicks - p.InferEndTicks) / (double)System.Diagnostics.Stopwatch.Frequency);
        _stage.WithLabels("end_to_end", camera).Observe((p.RenderEndTicks - p.CaptureTicks) / (double)System.Diagnostics.Stopwatch.Frequency);
        _frames.WithLabels(camera).Inc();
        return ValueTask.CompletedTask;
    }

    public async Task WriteTextAsync(Stream output, CancellationToken ct) => await Registry.CollectAndExportAsTextAsync(output,
        ct).ConfigureAwait(false);

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
