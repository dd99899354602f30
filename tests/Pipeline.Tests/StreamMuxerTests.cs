using System.Runtime.CompilerServices;
using OpenCvSharp;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>The stream muxer with fake cameras and a fake batching model: batches, stalls and synchronised sets.</summary>
public class StreamMuxerTests
{
    /// <summary>A model that takes batches: labels = the item's index, depth = the input's blue channel / 25.5.</summary>
    private sealed class BatchingModel(int maxBatch) : IMtlModel
    {
        private readonly Mat[] _inputs = Enumerable.Range(0, maxBatch).Select(_ => new Mat(6, 8, MatType.CV_8UC3)).ToArray();
        private readonly ModelOutputs[] _outputs = Enumerable.Range(0, maxBatch).Select(_ => new ModelOutputs(new Mat(6, 8, MatType.CV_8UC1),
            new Mat(6, 8, MatType.CV_32FC1), null)).ToArray();
        public List<int> Runs { get; } = [];

        public ModelInfo Info { get; } = new()
        {
            Path = "fake.onnx", Architecture = "fake", Backbone = "none", Labels = new LabelSet("two", ["a", "b"]),
            InputWidth = 8, InputHeight = 6, DepthMin = 0, DepthMax = 10, HasConfidence = false,
        };
        public string DeviceName => "cpu";
        public int MaxBatch => maxBatch;
        public Mat Labels => _outputs[0].Labels;
        public Mat Depth => _outputs[0].Depth;
        public Mat? Confidence => null;
        public void SetInput(Mat bgr) => SetInput(0, bgr);
        public void SetInput(int index, Mat bgr) => Cv2.Resize(bgr, _inputs[index], new Size(8, 6));
        public void Run() => RunBatch(1);

        public void RunBatch(int count)
        {
            lock (Runs) Runs.Add(count);
            for (var i = 0; i < count; i++)
            {
                _outputs[i].Labels.SetTo(Scalar.All(i));
                _outputs[i].Depth.SetTo(Scalar.All(_inputs[i].At<Vec3b>(0, 0).Item0 / 25.5));
            }
        }

        public ModelOutputs Output(int index) => _outputs[index];
    }

    /// <summary>A camera whose frames carry the given sensor stamps (ms), each after the given delay (ms).</summary>
    private sealed class StampedCamera(string name, (int DelayMs, long StampMs)[] frames, bool live = true) : IFrameSource
    {
        public string Description => name;
        public bool IsLive => live;
        public double? NominalFps => 10;
        public long? FrameCount => frames.Length;

        public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            for (var i = 0; i < frames.Length; i++)
            {
                if (frames[i].DelayMs > 0) await Task.Delay(frames[i].DelayMs, cancellationToken);
                yield return new Frame(i, System.Diagnostics.Stopwatch.GetTimestamp(), new Mat(6, 8, MatType.CV_8UC3, Scalar.All(40)))
                {
                    SensorTimeUnixNs = 1_700_000_000_000_000_000 + frames[i].StampMs * 1_000_000,
                };
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Collect : IFrameSink
    {
        public List<(long Seq, long Set, int Size)> Seen { get; } = [];
        public string Name => "collect";
        public bool Lossless => true;
        public ValueTask WriteAsync(FramePacket p, CancellationToken ct)
        {
            Seen.Add((p.Sequence, p.SetId, p.SetSize)); return ValueTask.CompletedTask;
        }
        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Copy : IFrameRenderer
    {
        public void Render(FramePacket packet, Mat output, PipelineStats stats) => packet.Frame.Image.CopyTo(output);
    }

    [Fact]
    public async Task Files_are_batched_together_and_every_frame_of_every_camera_comes_out_once_in_order()
    {
        var model = new BatchingModel(3);
        var engine = new EnginePipeline(model, new PipelineOptions(), new CollectingEvents());
        var sinks = new List<Collect>();
        foreach (var (name, n) in new[] { ("a", 12), ("b", 7), ("c", 9) })
        {
            var sink = new Collect();
            sinks.Add(sink);
            engine.AddCamera(name, new StampedCamera(name, Enumerable.Range(0, n).Select(i => (0, (long)i * 100)).ToArray(), live: false),
                new ResizePostProcessor(), new Copy(), new PipelineStats()).Attach(sink);
        }
        var summary = await engine.RunAsync();
        Assert.Equal([12, 7, 9], sinks.Select(s => s.Seen.Count));
        foreach (var s in sinks) Assert.Equal(Enumerable.Range(0, s.Seen.Count).Select(i => (long)i), s.Seen.Select(x => x.Seq));
        Assert.Equal(28, model.Runs.Sum());
        Assert.Contains(3, model.Runs);
        Assert.Equal(28, summary.Frames);
        Assert.Equal(model.Runs.Count, summary.Batches.Runs);
    }

    /// <summary>Records, across cameras, the order in which frames came out.</summary>
    private sealed class Ordered(string camera, List<string> order) : IFrameSink
    {
        public string Name => "ordered";
        public bool Lossless => true;
        public ValueTask WriteAsync(FramePacket p, CancellationToken ct)
        {
            lock (order) order.Add($"{camera}{p.Sequence}"); return
            ValueTask.CompletedTask;
        }
        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_stalled_camera_never_holds_a_batch_beyond_the_timeout()
    {
        var model = new BatchingModel(2);
        var engine = new EnginePipeline(model, new PipelineOptions { BatchTimeout = TimeSpan.FromMilliseconds(20) }, new CollectingEvents());
        var order = new List<string>();
        // A file camera with 40 frames, one every 30 ms (done by 1.2 s), and a camera that gives one frame, then
        // nothing until 3 s. Were batches held for the silent camera, the file camera (which waits for room) would
        // stall with it, and its frames would come out after the silent camera's second one.
        engine.AddCamera("f", new StampedCamera("f", Enumerable.Range(0, 40).Select(i => (30, (long)i * 30)).ToArray(), live: false),
            new ResizePostProcessor(), new Copy(), new PipelineStats()).Attach(new Ordered("f", order));
        engine.AddCamera("s", new StampedCamera("s", [(0, 0), (3000, 3000)]), new ResizePostProcessor(), new Copy(),
            new PipelineStats()).Attach(new Ordered("s", order));
        await engine.RunAsync();
        Assert.Equal(42, order.Count);
        Assert.True(order.IndexOf("s1") == order.Count - 1, string.Join(" ", order));
        Assert.True(model.Runs.Count(n => n == 1) >= 38, string.Join(",", model.Runs));
    }

    [Fact]
    public async Task Sync_groups_frames_within_the_window_into_sets_and_counts_the_ones_that_cannot_complete()
    {
        var model = new BatchingModel(2);
        var engine = new EnginePipeline(model, new PipelineOptions { Sync = TimeSpan.FromMilliseconds(20) }, new CollectingEvents());
        var a = new Collect();
        var b = new Collect();
        // Stamps (ms): a 0, 100, 200; b 5, 160, 205. Window 20 ms: {a0, b5} is a set; a100 and b160 are 60 ms apart,
        // so a100 goes on alone, then b160 (40 ms from a200); {a200, b205} is a set. File cameras are waited for, so
        // the sets follow the stamps alone: b's first frame arrives 80 ms late (four windows) and still joins a0.
        engine.AddCamera("a", new StampedCamera("a", [(0, 0), (10, 100), (10, 200)], live: false), new ResizePostProcessor(), new Copy(),
            new PipelineStats()).Attach(a);
        engine.AddCamera("b", new StampedCamera("b", [(80, 5), (10, 160), (10, 205)], live: false), new ResizePostProcessor(), new Copy(),
            new PipelineStats()).Attach(b);
        var summary = await engine.RunAsync();
        Assert.Equal([(0L, 0L, 2), (1, -1, 0), (2, 1, 2)], a.Seen);
        Assert.Equal([(0L, 0L, 2), (1, -1, 0), (2, 1, 2)], b.Seen);
        Assert.Equal(2, summary.Batches.Sets);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 1, ["b"] = 1 }, summary.Batches.IncompleteSets);
        Assert.Equal([2, 1, 1, 2], model.Runs);
    }

    /// <summary>
    /// A model of two instances whose runs overlap: instance 0 is slow and instance 1 fast, so a later batch often
    /// finishes first. Each instance has its own buffers; depth = the input's blue value / 25.5.
    /// </summary>
    private sealed class TwoInstanceModel : IMtlModel
    {
        private readonly BatchingModel[] _instances;
        private readonly IMtlModel[] _views;
        private int _running;
        public int MostAtOnce;
        public int Runs;

        /// <summary>The run (counted from 1) that throws, as a failing model would; 0: none.</summary>
        public int FailAt { get; init; }

        public TwoInstanceModel(int maxBatch = 3)
        {
            _instances = [new(maxBatch), new(maxBatch)];
            _views = [this, new View(this, 1)];
        }

        public ModelInfo Info => _instances[0].Info;
        public string DeviceName => "cpu";
        public int MaxBatch => _instances[0].MaxBatch;
        public int Instances => 2;
        public IMtlModel Instance(int k) => _views[k];
        public Mat Labels => _instances[0].Labels;
        public Mat Depth => _instances[0].Depth;
        public Mat? Confidence => null;
        public void SetInput(Mat bgr) => _instances[0].SetInput(0, bgr);
        public void SetInput(int index, Mat bgr) => _instances[0].SetInput(index, bgr);
        public void Run() => RunBatch(1);
        public void RunBatch(int count) => RunOn(0, count);
        public ModelOutputs Output(int index) => _instances[0].Output(index);

        private void RunOn(int k, int count)
        {
            var now = Interlocked.Increment(ref _running);
            InterlockedMax(ref MostAtOnce, now);
            var run = Interlocked.Increment(ref Runs);
            Thread.Sleep(k == 0 ? 25 : 2);
            if (run == FailAt)
            {
                Interlocked.Decrement(ref _running);
                throw new InvalidOperationException("model failed (test)");
            }
            _instances[k].RunBatch(count);
            Interlocked.Decrement(ref _running);
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
        }

        private sealed class View(TwoInstanceModel m, int k) : IMtlModel
        {
            public ModelInfo Info => m.Info;
            public string DeviceName => "cpu";
            public int MaxBatch => m.MaxBatch;
            public Mat Labels => m._instances[k].Labels;
            public Mat Depth => m._instances[k].Depth;
            public Mat? Confidence => null;
            public void SetInput(Mat bgr) => m._instances[k].SetInput(0, bgr);
            public void SetInput(int index, Mat bgr) => m._instances[k].SetInput(index, bgr);
            public void Run() => RunBatch(1);
            public void RunBatch(int count) => m.RunOn(k, count);
            public ModelOutputs Output(int index) => m._instances[k].Output(index);
        }
    }

    /// <summary>Keeps each frame's sequence and its depth at (0,0), as the sink saw it.</summary>
    private sealed class DepthSeen : IFrameSink
    {
        public List<(long Seq, float Depth)> Seen { get; } = [];
        public string Name => "depth-seen";
        public bool Lossless => true;
        public ValueTask WriteAsync(FramePacket p, CancellationToken ct)
        {
            Seen.Add((p.Sequence, p.Depth.At<float>(0,
            0))); return ValueTask.CompletedTask;
        }
        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task With_two_model_instances_batches_overlap_yet_every_camera_gets_its_own_frames_in_order()
    {
        var model = new TwoInstanceModel();
        var engine = new EnginePipeline(model, new PipelineOptions { MaxBatch = 2 }, new CollectingEvents());
        var sinks = new List<DepthSeen>();
        foreach (var (name, n) in new[] { ("a", 30), ("b", 24), ("c", 27) })
        {
            var sink = new DepthSeen();
            sinks.Add(sink);
            engine.AddCamera(name, new NumberedCamera(n), new ResizePostProcessor(), new Copy(), new PipelineStats()).Attach(sink);
        }
        var summary = await engine.RunAsync();
        Assert.Equal(2, model.MostAtOnce);
        Assert.Equal(2, summary.Instances);
        Assert.Equal(81, summary.Frames);
        foreach (var s in sinks)
        {
            // In order, each once, and each frame's own outputs (frame i had blue 10 + i): no run wrote over another's.
            Assert.Equal(Enumerable.Range(0, s.Seen.Count).Select(i => (long)i), s.Seen.Select(x => x.Seq));
            Assert.All(s.Seen, x => Assert.Equal((10 + x.Seq) / 25.5, x.Depth, 3));
        }
        Assert.Equal([30, 24, 27], sinks.Select(s => s.Seen.Count));
    }

    [Theory]
    [InlineData(false, null, 4)]
    [InlineData(true, null, 2)]
    [InlineData(true, 3, 3)]
    public void Live_cameras_are_shared_out_over_the_model_instances_files_fill_whole_batches(bool live, int? batch, int expected)
    {
        var engine = new EnginePipeline(new TwoInstanceModel(4), new PipelineOptions { MaxBatch = batch }, new CollectingEvents());
        foreach (var name in new[] { "a", "b", "c", "d" })
            engine.AddCamera(name, new StampedCamera(name, [(0, 0)], live), new ResizePostProcessor(), new Copy(), new PipelineStats());
        Assert.Equal(expected, engine.BatchSize);
    }

    [Fact]
    public async Task A_model_failure_on_one_instance_stops_every_camera_without_hanging_the_other()
    {
        var model = new TwoInstanceModel { FailAt = 6 };
        var engine = new EnginePipeline(model, new PipelineOptions { MaxBatch = 2 }, new CollectingEvents());
        var sinks = new List<DepthSeen>();
        foreach (var name in new[] { "a", "b", "c" })
        {
            var sink = new DepthSeen();
            sinks.Add(sink);
            engine.AddCamera(name, new NumberedCamera(200), new ResizePostProcessor(), new Copy(), new PipelineStats()).Attach(sink);
        }
        var run = engine.RunAsync();
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))));
        var summary = await run;
        Assert.Contains("model failed (test)", summary.StageError);
        // The run stopped early; what came out (frames the model finished, even after the failed batch) is every
        // camera's own frames, each once and in order.
        Assert.True(summary.Frames < 600, $"{summary.Frames} frames");
        foreach (var s in sinks)
        {
            Assert.True(s.Seen.Zip(s.Seen.Skip(1)).All(p => p.First.Seq < p.Second.Seq), string.Join(",", s.Seen.Select(x => x.Seq)));
            Assert.All(s.Seen, x => Assert.Equal((10 + x.Seq) / 25.5, x.Depth, 3));
        }
    }
}
