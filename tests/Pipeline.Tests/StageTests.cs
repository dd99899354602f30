using OpenCvSharp;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>The core's stages with a fake model, renderer and sinks: no ONNX Runtime, no drawing library.</summary>
public class StageTests
{
    /// <summary>labels = 1 where the input's blue channel is bright, else 0; depth = green / 25.5; optionally fails at one frame.</summary>
    private sealed class FakeModel : IMtlModel, IDisposable
    {
        private readonly Mat _input = new(24, 32, MatType.CV_8UC3);
        private readonly long _failAt;
        private long _runs;

        public FakeModel(long failAt = -1) => _failAt = failAt;

        public ModelInfo Info { get; } = new()
        {
            Path = "fake.onnx", Architecture = "fake", Backbone = "none", Labels = new LabelSet("two", ["dark", "bright"]),
            InputWidth = 32, InputHeight = 24, DepthMin = 0, DepthMax = 10, HasConfidence = false,
        };
        public string DeviceName => "cpu";
        public Mat Labels { get; } = new(24, 32, MatType.CV_8UC1);
        public Mat Depth { get; } = new(24, 32, MatType.CV_32FC1);
        public Mat? Confidence => null;

        public void SetInput(Mat bgr) => RealtimeMtl.Pipeline.Imaging.CvNative.Resize(bgr, _input, _input.Size(), InterpolationFlags.Nearest);

        public unsafe void Run()
        {
            if (_runs++ == _failAt) throw new InvalidOperationException("the fake model broke");
            for (var y = 0; y < 24; y++)
                for (var x = 0; x < 32; x++)
                {
                    var px = _input.At<Vec3b>(y, x);
                    ((byte*)Labels.Ptr(y))[x] = (byte)(px.Item0 > 127 ? 1 : 0);
                    ((float*)Depth.Ptr(y))[x] = px.Item1 / 25.5f;
                }
        }

        public void Dispose() { _input.Dispose(); Labels.Dispose(); Depth.Dispose(); }
    }

    private sealed class CopyRenderer : IFrameRenderer
    {
        public void Render(FramePacket packet, Mat output, PipelineStats stats) => packet.Frame.Image.CopyTo(output);
    }

    /// <summary>Fails on the frames it is told to; copies the others.</summary>
    private sealed class FlakyRenderer(params long[] failOn) : IFrameRenderer
    {
        public void Render(FramePacket packet, Mat output, PipelineStats stats)
        {
            if (failOn.Contains(packet.Sequence)) throw new InvalidOperationException($"no pen for frame {packet.Sequence}");
            packet.Frame.Image.CopyTo(output);
        }
    }

    [Fact]
    public async Task A_render_failure_is_counted_reported_once_left_out_of_the_sinks_and_ends_the_run_as_a_stage_error()
    {
        using var model = new FakeModel();
        var held = Frames(10);
        await using var source = new ReplaySource(held, 10, "ten frames");
        var log = new CollectingEvents();
        var sink = new RecordingSink();
        var pipeline = OneCamera.Engine(source, model, new ResizePostProcessor(), new FlakyRenderer(3, 5, 7), PipelineStats.For(source, model),
            log, sink);
        var summary = await pipeline.RunAsync();
        Assert.Equal([0L, 1, 2, 4, 6, 8, 9], sink.Sequences);
        Assert.True(sink.Completed);
        var warning = Assert.Single(log.Warnings);
        Assert.Contains("render failed on frame 3: no pen for frame 3", warning);
        Assert.Equal("the render stage failed on 3 frames (first at frame 3: no pen for frame 3)", summary.StageError);
        held.ForEach(f => f.Dispose());
    }

    /// <summary>Counts the frames it draws.</summary>
    private sealed class CountingRenderer : IFrameRenderer
    {
        public int Drawn;
        public void Render(FramePacket packet, Mat output, PipelineStats stats) { Drawn++; packet.Frame.Image.CopyTo(output); }
    }

    /// <summary>A sink of labels and depth only (raw outputs, feeds, metrics): it never reads the picture.</summary>
    private sealed class LabelsOnlySink : IFrameSink
    {
        public int Frames, WithPicture;
        public string Name => "labels";
        public bool Lossless => true;
        public bool UsesPicture => false;
        public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
        {
            Frames++; if (packet.Rendered is not null)
                WithPicture++; return ValueTask.CompletedTask;
        }
        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Frames_no_output_shows_are_not_drawn_and_are_counted_and_a_sink_that_shows_them_gets_them_drawn()
    {
        using var model = new FakeModel();
        var held = Frames(6);
        // Only a sink of labels: nothing is drawn, every frame still reaches it, and the summary says so.
        await using (var source = new ReplaySource(held, 6, "six frames"))
        {
            var renderer = new CountingRenderer();
            var labels = new LabelsOnlySink();
            var summary = await OneCamera.Engine(source, model, new ResizePostProcessor(), renderer, PipelineStats.For(source,
                model), null, labels).RunAsync();
            Assert.Equal((0, 6, 0), (renderer.Drawn, labels.Frames, labels.WithPicture));
            Assert.Equal(6, summary.Cameras[0].Stats.FramesNotDrawn);
        }
        // With a sink that reads the picture beside it, every frame is drawn, and both get it.
        await using (var source = new ReplaySource(held, 6, "six frames"))
        {
            var renderer = new CountingRenderer();
            var labels = new LabelsOnlySink();
            var recorder = new RecordingSink();
            var summary = await OneCamera.Engine(source, model, new ResizePostProcessor(), renderer, PipelineStats.For(source,
                model), null, labels, recorder).RunAsync();
            Assert.Equal((6, 6, 6), (renderer.Drawn, labels.Frames, recorder.Sequences.Count));
            Assert.Equal(0, summary.Cameras[0].Stats.FramesNotDrawn);
        }
    }

    [Fact]
    public void A_packet_released_past_zero_throws_in_the_tests_and_is_counted()
    {
        Assert.True(FramePacket.StrictRelease); // tests/Directory.Build.targets turns the switch on
        var packet = new FramePacket(new Frame(0, 0, new Mat(4, 4, MatType.CV_8UC3)));
        packet.AddRef();
        packet.Release();
        packet.Release(); // the last holder: disposed
        var before = FramePacket.OverReleased;
        var e = Assert.Throws<InvalidOperationException>(packet.Release);
        Assert.Contains("released more often than it was referenced", e.Message);
        Assert.Equal(before + 1, FramePacket.OverReleased);
    }

    [Fact]
    public async Task A_sink_that_draws_into_the_shared_packet_is_stopped_as_a_failed_sink_and_the_others_see_clean_frames()
    {
        Assert.True(FramePacket.CheckSharedWrites); // tests/Directory.Build.targets turns the check on
        using var model = new FakeModel();
        var held = Frames(8);
        await using var source = new ReplaySource(held, 8, "eight frames");
        var log = new CollectingEvents();
        var scribbler = new ScribblingSink();
        var clean = new RecordingSink();
        var stats = PipelineStats.For(source, model);
        var pipeline = OneCamera.Engine(source, model, new ResizePostProcessor(), new CopyRenderer(), stats, log, scribbler, clean);
        var summary = await pipeline.RunAsync();
        Assert.Equal(8, summary.Frames);
        Assert.Equal(1, scribbler.Writes);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), clean.Sequences);
        var warning = Assert.Single(log.Warnings);
        Assert.Contains("sink scribbler failed at frame 0: it changed the shared frame packet", warning);
        held.ForEach(f => f.Dispose());
    }

    /// <summary>Draws a white square into the frame it was handed, as a careless overlay sink would.</summary>
    private sealed class ScribblingSink : IFrameSink
    {
        public int Writes { get; private set; }
        public string Name => "scribbler";
        public bool Lossless => true;

        public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
        {
            Writes++;
            Cv2.Rectangle(packet.Rendered!, new Rect(0, 0, 8, 8), Scalar.All(255), -1);
            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Records what it saw; lossless, so it sees every frame.</summary>
    private sealed class RecordingSink : IFrameSink
    {
        public List<long> Sequences { get; } = [];
        public HashSet<IntPtr> LabelBuffers { get; } = [];
        public List<byte> FirstLabel { get; } = [];
        public bool Completed { get; private set; }
        public string Name => "recording";
        public bool Lossless => true;

        public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
        {
            Sequences.Add(packet.Sequence);
            LabelBuffers.Add(packet.Labels.Data);
            FirstLabel.Add(packet.Labels.At<byte>(0, 0));
            Assert.Same(packet.RenderTarget, packet.Rendered);
            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync() { Completed = true; return ValueTask.CompletedTask; }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Frames alternating bright and dark blue, 64x48.</summary>
    private static List<Frame> Frames(int n) => Enumerable.Range(0, n)
        .Select(i => new Frame(i, 0, new Mat(48, 64, MatType.CV_8UC3, i % 2 == 0 ? new Scalar(200, 51, 0) : new Scalar(10, 102, 0)))).ToList();

    [Fact]
    public async Task Every_frame_reaches_every_lossless_sink_in_order_with_its_own_prediction_and_pooled_buffers()
    {
        using var model = new FakeModel();
        var held = Frames(6);
        await using var source = new ReplaySource(held, 60, "six frames, ten times");
        var stats = PipelineStats.For(source, model);
        var a = new RecordingSink();
        var b = new RecordingSink();
        var pipeline = OneCamera.Engine(source, model, new ResizePostProcessor(), new CopyRenderer(), stats, new CollectingEvents(), a, b);
        var summary = await pipeline.RunAsync();
        Assert.Equal(60, summary.Frames);
        foreach (var sink in new[] { a, b })
        {
            Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i), sink.Sequences);
            // Each packet carries its own frame's prediction, even though packets are reused.
            Assert.Equal(Enumerable.Range(0, 60).Select(i => (byte)(i % 2 == 0 ? 1 : 0)), sink.FirstLabel);
            Assert.True(sink.Completed);
            // 60 frames through a handful of pooled packets: their label buffers are reused, not reallocated.
            Assert.InRange(sink.LabelBuffers.Count, 1, 16);
        }
        held.ForEach(f => f.Dispose());
    }

    [Fact]
    public async Task Sinks_are_attached_before_the_run_and_a_pipeline_runs_once()
    {
        using var model = new FakeModel();
        var held = Frames(2);
        await using var source = new ReplaySource(held, 4, "two frames");
        var pipeline = OneCamera.Engine(source, model, new ResizePostProcessor(), new CopyRenderer(), PipelineStats.For(source, model),
            new CollectingEvents());
        await pipeline.RunAsync();
        Assert.Throws<InvalidOperationException>(() => pipeline.Cameras[0].Attach(new RecordingSink()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.RunAsync());
        held.ForEach(f => f.Dispose());
    }

    [Fact]
    public async Task A_failing_infer_stage_ends_the_run_with_its_error_and_every_sink_is_finalised()
    {
        using var model = new FakeModel(failAt: 5);
        var held = Frames(4);
        // A file-like source (waits for room) much longer than the run: the fault must stop it, not leave it blocked.
        await using var source = new ReplaySource(held, 100_000, "long file");
        var sink = new RecordingSink();
        var events = new CollectingEvents();
        var pipeline = OneCamera.Engine(source, model, new ResizePostProcessor(), new CopyRenderer(), PipelineStats.For(source, model),
            events, sink);
        var summary = await pipeline.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("the infer stage failed at frame 5: the fake model broke", summary.StageError);
        Assert.Equal([0, 1, 2, 3, 4], sink.Sequences);
        Assert.True(sink.Completed);
        held.ForEach(f => f.Dispose());
    }

    [Fact]
    public void The_infer_stage_allocates_nothing_managed_per_frame_in_steady_state()
    {
        using var model = new FakeModel();
        var stage = new InferStage(model, new ResizePostProcessor(), new PipelineStats());
        var packets = Frames(4).Select(stage.Packet).ToList();
        foreach (var p in packets) stage.Process(p);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++) stage.Process(packets[i % packets.Count]);
        var perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / 200.0;
        // Cv2.Resize alone would allocate about 200 bytes (its InputArray/OutputArray wrappers); the stage uses none.
        Assert.True(perFrame < 16, $"{perFrame:0.0} bytes per frame");
        packets.ForEach(p => p.Release());
    }

    [Fact]
    public void Class_statistics_leave_ignored_and_unknown_labels_out_of_counts_and_shares()
    {
        var stats = new ClassStatistics(3);
        byte[] labels = [0, 0, 1, 2, LabelSet.Ignore, LabelSet.Ignore, 7, 2];
        stats.Add(labels);
        Assert.Equal(5, stats.Valid);
        Assert.Equal(2 / 5.0, stats.Share(0), 12);
        Assert.Equal(1 / 5.0, stats.Share(1), 12);
        Assert.Equal(2 / 5.0, stats.Share(2), 12);
        Span<double> shares = stackalloc double[3];
        stats.Shares(shares);
        Assert.Equal(1.0, shares[0] + shares[1] + shares[2], 12);
        stats.Add([LabelSet.Ignore, LabelSet.Ignore]);
        Assert.Equal(0, stats.Share(0));
    }
}
