using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using RealtimeMtl.Capture.Synthetic;

namespace RealtimeMtl.Bench;

/// <summary>One synthetic RGB-D frame (colour, exact depth, labels) on one core; the target is well under 33 ms at 320x240.</summary>
[MemoryDiagnoser]
public class SyntheticRenderBenchmarks
{
    private readonly Mat _image = new(), _depth = new(), _labels = new();
    private SyntheticRoom _room = null!;
    private long _frame;

    [Params(320, 640)]
    public int Width { get; set; }

    [GlobalSetup]
    public void Setup() => _room = new SyntheticRoom(1);

    [Benchmark]
    public void RenderWalkFrame()
    {
        var k = SyntheticWorld.Intrinsics(Width, Width * 3 / 4);
        SyntheticRenderer.Render(_room, SyntheticWorld.WalkPose(_room, _frame++ % 300, 30), k, _image, _depth, _labels);
    }

    [Benchmark]
    public void RenderWalkFrameWithSensorNoise()
    {
        var k = SyntheticWorld.Intrinsics(Width, Width * 3 / 4);
        SyntheticRenderer.Render(_room, SyntheticWorld.WalkPose(_room, _frame++ % 300, 30), k, _image, _depth, _labels);
        SyntheticWorld.AddSensorNoise(_depth, 1, _frame);
    }
}
