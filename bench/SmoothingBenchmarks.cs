using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Common.Motion;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Frames;

namespace RealtimeMtl.Bench;

/// <summary>
/// --smooth flow's cost per frame at the light model's resolution (256x192), on a walking synthetic camera (320x240
/// and 640x480 input, randomised world): the whole fusion with its default settings, its motion estimate (both DIS flows and the
/// checks, at the size the fusion makes them), and one of the two flows. Each call advances one frame of a 16-frame
/// loop of the walk; the loop's jump back is a cut, as in a clip. RTMTL_FUSION (e.g. <c>level=1</c>, <c>stride=2</c>)
/// measures other settings, and RTMTL_BENCH_MOTION=turns the fast turns instead of the walk (DIS takes more steps there).
/// </summary>
[MemoryDiagnoser]
public class SmoothingBenchmarks
{
    private const int W = 256, H = 192, Frames = 16;
    private static readonly FlowFusion.Settings Defaults = FlowFusion.Settings.FromEnvironment();
    private readonly List<Mat> _images = [], _labels = [], _depths = [];
    private readonly Mat _l = new(), _d = new(), _c = new(H, W, MatType.CV_32FC1);
    private readonly FlowFusion _fusion = new(Defaults);
    private readonly DisFlow _flow =
        new(stride: Defaults.FlowStride, iterations: Defaults.FlowIterations, finestLevel: Defaults.FlowLevel);
    private readonly GrayPyramid[] _pyramids = new GrayPyramid[Frames];
    private readonly float[] _fx = new float[W * H], _fy = new float[W * H];
    private MotionField _motion = null!;
    private int _f;

    /// <summary>The camera's frame width (4:3): 320 as eval's synthetic cases, 640 as the engine's default camera.</summary>
    [Params(320, 640)]
    public int InputWidth { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _motion = new MotionField(_flow, level: _flow.FinestLevel);
        var levels = GrayPyramid.LevelsFor(W, H, _flow.Patch);
        var motion = Environment.GetEnvironmentVariable("RTMTL_BENCH_MOTION") == "turns" ? SyntheticMotion.Turns : SyntheticMotion.Walk;
        var source = new SyntheticSource(new SyntheticOptions
        {
            Frames = Frames, Motion = motion, Randomised = true, Width = InputWidth, Height = InputWidth * 3 / 4,
        });
        for (var i = 0; i < Frames; i++)
        {
            using Frame frame = source.RenderFrame(i);
            _images.Add(frame.Image.Clone());
            var labels = new Mat(); var depth = new Mat();
            Cv2.Resize(frame.Labels!, labels, new Size(W, H), 0, 0, InterpolationFlags.Nearest);
            Cv2.Resize(frame.Depth!, depth, new Size(W, H), 0, 0, InterpolationFlags.Linear);
            _labels.Add(labels); _depths.Add(depth);
            using var gray = new Mat(); using var half = new Mat();
            Cv2.CvtColor(frame.Image, gray, ColorConversionCodes.BGR2GRAY);
            Cv2.Resize(gray, half, new Size(W >> _flow.FinestLevel, H >> _flow.FinestLevel), 0, 0, InterpolationFlags.Area);
            half.GetArray(out byte[] g);
            _pyramids[i] = new GrayPyramid();
            _pyramids[i].Fill(g, W, H, levels, _flow.FinestLevel);
        }
        Cv2.Randu(_c, new Scalar(0.5), new Scalar(1.0));
    }

    /// <summary>The whole of --smooth flow for one frame: grey, pyramid, flow both ways, checks, fusion.</summary>
    [Benchmark]
    public void FuseOneFrame()
    {
        var f = _f++ % Frames;
        _labels[f].CopyTo(_l); _depths[f].CopyTo(_d);
        _fusion.Apply(_images[f], _l, _d, _c);
    }

    /// <summary>The motion estimate alone, from ready pyramids: both flows and the checks.</summary>
    [Benchmark]
    public void MotionOneFrame()
    {
        var f = 1 + _f++ % (Frames - 1);
        _motion.Estimate(_pyramids[f], _pyramids[f - 1]);
    }

    /// <summary>One DIS flow at half size (of the two the motion estimate makes).</summary>
    [Benchmark]
    public void FlowOneWay()
    {
        var f = 1 + _f++ % (Frames - 1);
        _flow.Compute(_pyramids[f], _pyramids[f - 1], _fx, _fy, _flow.FinestLevel);
    }
}
