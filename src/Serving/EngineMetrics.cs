using Prometheus;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Serving;

/// <summary>
/// Prometheus metrics of the engine (prometheus-net, own registry, names prefixed rtmtl_, Prometheus naming
/// conventions: base units, _seconds histograms, _total counters, an _info gauge): stage latency histograms observed
/// per frame (this is a cheap lossless sink), and FPS, frames, drops, device, sink errors, live quality and build
/// information read from <see cref="PipelineStats"/> at scrape time.
/// </summary>
public sealed class EngineMetrics : IFrameSink
{
    private static readonly double[] Buckets = [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1];
    private readonly Histogram _stage;
    private readonly Counter _frames;

    /// <summary><paramref name="runtime"/>: the inference runtime and its version, for rtmtl_build_info.</summary>
    public EngineMetrics(PipelineStats stats, string runtime)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _stage = f.CreateHistogram("rtmtl_stage_latency_seconds", "Per-frame time spent in each stage, seconds.", new HistogramConfiguration { LabelNames = ["stage"], Buckets = Buckets });
        _frames = f.CreateCounter("rtmtl_frames_total", "Frames rendered.");
        var fps = f.CreateGauge("rtmtl_fps", "Frames per second over the run.");
        var dropped = f.CreateCounter("rtmtl_dropped_frames_total", "Frames dropped: at the source (faster than the engine) or skipped by viewers.", new CounterConfiguration { LabelNames = ["where"] });
        var device = f.CreateGauge("rtmtl_device_info", "Execution device of the model (1 for the one in use).", new GaugeConfiguration { LabelNames = ["device", "model"] });
        var sinkErrors = f.CreateCounter("rtmtl_sink_errors_total", "Errors per sink.", new CounterConfiguration { LabelNames = ["sink"] });
        var evicted = f.CreateCounter("rtmtl_viewers_evicted_total", "MJPEG viewers evicted after the write deadline.");
        var build = f.CreateGauge("rtmtl_build_info", "Build of the engine (always 1).", new GaugeConfiguration { LabelNames = ["version", "commit", "onnxruntime"] });
        var (version, commit) = BuildVersion();
        build.WithLabels(version, commit, runtime).Set(1);
        var quality = f.CreateGauge("rtmtl_live_quality", "Live quality against the source's ground truth.", new GaugeConfiguration { LabelNames = ["metric"] });
        Registry.AddBeforeCollectCallback(() =>
        {
            if (double.IsFinite(stats.Fps)) fps.Set(stats.Fps);
            dropped.WithLabels("source").IncTo(stats.DroppedAtSource);
            dropped.WithLabels("viewers").IncTo(stats.DroppedAtViewers);
            evicted.IncTo(stats.ViewersEvicted);
            device.WithLabels(stats.Device, stats.ModelName).Set(1);
            foreach (var (sink, n) in stats.SinkErrors) sinkErrors.WithLabels(sink).IncTo(n);
            var q = stats.QualitySnapshot();
            if (q.SegPixels > 0) quality.WithLabels("miou").Set(q.MeanIoU);
            if (q.DepthPixels > 0) quality.WithLabels("depth_rmse_m").Set(q.Rmse);
        });
    }

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
    public bool Lossless => true;

    public ValueTask WriteAsync(FramePacket p, CancellationToken cancellationToken)
    {
        _stage.WithLabels("pre").Observe(p.PreMs / 1000);
        _stage.WithLabels("model").Observe(p.ModelMs / 1000);
        _stage.WithLabels("post").Observe(p.PostMs / 1000);
        _stage.WithLabels("render").Observe((p.RenderEndTicks - p.InferEndTicks) / (double)System.Diagnostics.Stopwatch.Frequency);
        _stage.WithLabels("end_to_end").Observe((p.RenderEndTicks - p.CaptureTicks) / (double)System.Diagnostics.Stopwatch.Frequency);
        _frames.Inc();
        return ValueTask.CompletedTask;
    }

    public async Task WriteTextAsync(Stream output, CancellationToken ct) => await Registry.CollectAndExportAsTextAsync(output, ct).ConfigureAwait(false);

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
