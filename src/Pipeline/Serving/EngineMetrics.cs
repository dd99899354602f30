using Prometheus;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Serving;

/// <summary>
/// Prometheus metrics of the engine (prometheus-net, own registry, names prefixed rtmtl_): stage latency
/// histograms observed per frame (this is a cheap lossless sink), and FPS, frames, drops, device, sink errors and
/// live quality read from <see cref="PipelineStats"/> at scrape time.
/// </summary>
public sealed class EngineMetrics : IFrameSink
{
    private static readonly double[] Buckets = [1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 150, 250, 500, 1000];
    private readonly Histogram _stage;
    private readonly Counter _frames;

    public EngineMetrics(PipelineStats stats)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _stage = f.CreateHistogram("rtmtl_stage_latency_ms", "Per-frame time spent in each stage, milliseconds.", new HistogramConfiguration { LabelNames = ["stage"], Buckets = Buckets });
        _frames = f.CreateCounter("rtmtl_frames_total", "Frames rendered.");
        var fps = f.CreateGauge("rtmtl_fps", "Frames per second over the run.");
        var dropped = f.CreateGauge("rtmtl_dropped_frames", "Frames dropped because the source was faster than the engine.", new GaugeConfiguration { LabelNames = ["where"] });
        var device = f.CreateGauge("rtmtl_device_info", "Execution device of the model (1 for the one in use).", new GaugeConfiguration { LabelNames = ["device", "model"] });
        var sinkErrors = f.CreateGauge("rtmtl_sink_errors", "Errors per sink.", new GaugeConfiguration { LabelNames = ["sink"] });
        var quality = f.CreateGauge("rtmtl_live_quality", "Live quality against the source's ground truth.", new GaugeConfiguration { LabelNames = ["metric"] });
        Registry.AddBeforeCollectCallback(() =>
        {
            if (double.IsFinite(stats.Fps)) fps.Set(stats.Fps);
            dropped.WithLabels("source").Set(stats.DroppedAtSource);
            dropped.WithLabels("viewers").Set(stats.DroppedAtViewers);
            device.WithLabels(stats.Device, stats.ModelName).Set(1);
            foreach (var (sink, n) in stats.SinkErrors) sinkErrors.WithLabels(sink).Set(n);
            var q = stats.QualitySnapshot();
            if (q.SegPixels > 0) quality.WithLabels("miou").Set(q.MeanIoU);
            if (q.DepthPixels > 0) quality.WithLabels("depth_rmse_m").Set(q.Rmse);
        });
    }

    public CollectorRegistry Registry { get; }
    public string Name => "metrics";
    public bool Lossless => true;

    public ValueTask WriteAsync(FramePacket p, CancellationToken cancellationToken)
    {
        _stage.WithLabels("pre").Observe(p.PreMs);
        _stage.WithLabels("model").Observe(p.ModelMs);
        _stage.WithLabels("post").Observe(p.PostMs);
        _stage.WithLabels("render").Observe((p.RenderEndTicks - p.InferEndTicks) * 1000.0 / System.Diagnostics.Stopwatch.Frequency);
        _stage.WithLabels("end_to_end").Observe((p.RenderEndTicks - p.CaptureTicks) * 1000.0 / System.Diagnostics.Stopwatch.Frequency);
        _frames.Inc();
        return ValueTask.CompletedTask;
    }

    public async Task WriteTextAsync(Stream output, CancellationToken ct) => await Registry.CollectAndExportAsTextAsync(output, ct).ConfigureAwait(false);

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
