using System.Runtime.CompilerServices;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Quality;
using RealtimeMtl.Render;
using RealtimeMtl.Render.Drawing;
using RealtimeMtl.Sinks;

namespace RealtimeMtl.Cli.Tests;

public class PipelineBehaviourTests
{
    [Fact]
    public async Task Live_metrics_on_a_synthetic_run_equal_the_offline_evaluation_of_the_same_frames()
    {
        using var model = new OnnxMtlModel(Engine.ShippedModel);
        using var renderer = new FrameRenderer(model.Info, new RenderOptions());
        var options = new SyntheticOptions { Seed = 9, Frames = 12, Width = 160, Height = 120 };
        await using var source = new SyntheticSource(options);
        var pipeline = TestPipelines.Create(source, model, renderer, [], new PipelineOptions(), new CollectingEvents());
        var summary = await pipeline.RunAsync();
        Assert.Equal(12, summary.Frames);

        var seg = new SegmentationMetrics(model.Info.Labels.Count);
        var depth = new DepthMetrics();
        var offline = new SyntheticSource(options);
        // The same infer stage the pipeline runs, frame by frame, scored by the offline metrics Training uses.
        var stage = new InferStage(model, new ModelPostProcessor(), new PipelineStats());
        for (var i = 0; i < 12; i++)
        {
            var packet = new FramePacket(offline.RenderFrame(i));
            stage.Process(packet);
            seg.Add(Bytes(packet.Frame.Labels!), Bytes(packet.Labels));
            depth.Add(Floats(packet.Frame.Depth!), Floats(packet.Depth));
            packet.Release();
        }
        Assert.Equal(seg.MeanIoU, summary.MeanIoU!.Value, 12);
        Assert.Equal(seg.PixelAccuracy, summary.PixelAccuracy!.Value, 12);
        Assert.Equal(depth.Rmse, summary.DepthRmse!.Value, 9);
        Assert.Equal(depth.AbsRel, summary.DepthAbsRel!.Value, 9);
    }

    private static byte[] Bytes(Mat m) { var b = new byte[m.Total()]; System.Runtime.InteropServices.Marshal.Copy(m.Data, b, 0, b.Length); return b; }
    private static float[] Floats(Mat m)
    {
        var b = new float[m.Total()]; System.Runtime.InteropServices.Marshal.Copy(m.Data, b, 0,
        b.Length); return b;
    }

    /// <summary>A camera that produces frames much faster than inference can take them, until <paramref name="enough"/> holds.</summary>
    private sealed class FastLiveSource(int frames, Func<bool>? enough = null) : IFrameSource
    {
        public string Description => "fast live test source";
        public bool IsLive => true;
        public double? NominalFps => 1000;
        public long? FrameCount => null;
        public int Produced;

        public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            using var template = new Mat(120, 160, MatType.CV_8UC3, new Scalar(90, 120, 150));
            for (var i = 0; i < frames && !cancellationToken.IsCancellationRequested && !(enough?.Invoke() ?? false); i++)
            {
                Produced++;
                yield return new Frame(i, Stopwatch.GetTimestamp(), template.Clone());
                await Task.Delay(1, cancellationToken);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class SlowSink : IFrameSink
    {
        public string Name => "slow";
        public bool Lossless => true;
        public List<long> Sequences { get; } = [];
        public int Count;
        /// <summary>Capture to end of rendering, per frame, in milliseconds.</summary>
        public List<double> LatencyMs { get; } = [];
        /// <summary>Per frame: its wait from capture to the start of its inference, in model runs (its own run's time).</summary>
        public List<double> WaitInRuns { get; } = [];
        public async ValueTask WriteAsync(FramePacket packet, CancellationToken ct)
        {
            Sequences.Add(packet.Sequence);
            LatencyMs.Add(Stopwatch.GetElapsedTime(packet.CaptureTicks, packet.RenderEndTicks).TotalMilliseconds);
            WaitInRuns.Add(Stopwatch.GetElapsedTime(packet.CaptureTicks, packet.InferStartTicks).TotalMilliseconds / Math.Max(0.5, packet.ModelMs));
            Interlocked.Increment(ref Count);
            await Task.Delay(5, ct);
        }
        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_live_source_faster_than_inference_drops_the_oldest_frames_counts_them_and_keeps_latency_flat()
    {
        using var model = new OnnxMtlModel(Engine.ShippedModel);
        using var renderer = new FrameRenderer(model.Info, new RenderOptions());
        // Produces until 60 frames came out (however busy the machine), at most 20000.
        var sink = new SlowSink();
        var source = new FastLiveSource(20_000, () => Volatile.Read(ref sink.Count) >= 60);
        var pipeline = TestPipelines.Create(source, model, renderer, [sink], new PipelineOptions(), new CollectingEvents());
        var summary = await pipeline.RunAsync();
        Assert.True(summary.DroppedAtSource > 0, "frames must be dropped");
        Assert.Equal(source.Produced, summary.Frames + summary.DroppedAtSource);
        // Output keeps frame order.
        Assert.Equal(sink.Sequences.OrderBy(s => s), sink.Sequences);
        // No growing queue: a frame waits for inference about one model run (the one in progress when it arrived), in
        // the second half of the run as in the first. Counted in model runs of the same frames, so a machine busy with
        // other work (which slows the runs and the waits alike) does not move it; a queue in front of the model would
        // make it grow with every frame.
        static double Median(IEnumerable<double> v) { var a = v.Order().ToArray(); return a[a.Length / 2]; }
        var steady = sink.WaitInRuns.Skip(20).ToList();
        Assert.True(steady.Count >= 20, $"only {sink.WaitInRuns.Count} frames came out");
        double early = Median(steady.Take(steady.Count / 2)), late = Median(steady.Skip(steady.Count / 2));
        Assert.True(late < 3 && early < 3, $"median wait before inference {early:0.00} model runs in the first half, {late:0.00} in the second");
    }

    private sealed class FailingSink : IFrameSink
    {
        public string Name => "broken";
        public bool Lossless => true;
        public ValueTask WriteAsync(FramePacket packet, CancellationToken ct) =>
            packet.Sequence == 3 ? throw new IOException("disk full") : ValueTask.CompletedTask;
        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_failing_sink_is_reported_once_and_the_other_sinks_get_every_frame()
    {
        using var model = new OnnxMtlModel(Engine.ShippedModel);
        using var renderer = new FrameRenderer(model.Info, new RenderOptions());
        var good = new SlowSink();
        var events = new CollectingEvents();
        await using var source = new SyntheticSource(new SyntheticOptions { Frames = 10, Width = 96, Height = 72 });
        var pipeline = TestPipelines.Create(source, model, renderer, [new FailingSink(), good], new PipelineOptions(), events);
        var summary = await pipeline.RunAsync();
        Assert.Equal(10, good.Sequences.Count);
        Assert.Equal(1, summary.SinkErrors["broken"]);
        Assert.Single(events.Warnings, w => w.Contains("sink broken failed"));
        Assert.Contains("fault   sink broken", summary.ToText());
    }

    [Fact]
    public async Task Max_frames_stops_the_run_and_drains_every_frame_to_the_sinks()
    {
        using var model = new OnnxMtlModel(Engine.ShippedModel);
        using var renderer = new FrameRenderer(model.Info, new RenderOptions());
        var sink = new SlowSink();
        await using var source = new SyntheticSource(new SyntheticOptions { Frames = 100, Width = 96, Height = 72 });
        var summary = await TestPipelines.Create(source, model, renderer, [sink], new PipelineOptions { MaxFrames = 17 },
            new CollectingEvents()).RunAsync();
        Assert.Equal(17, summary.Frames);
        Assert.Equal(Enumerable.Range(0, 17).Select(i => (long)i), sink.Sequences);
    }
}
