using System.Runtime.InteropServices;
using OpenCvSharp;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Common.Motion;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Quality;

/// <summary>
/// Label-free quality on footage, as a sink of the engine (rtmtl eval --video): on a static camera a good model is
/// steady. Per frame, at frame size: the share of pixels whose class changed since the previous frame (flicker), the
/// median relative depth change, the class histogram and a sample of depths for percentiles. Flicker along the flow:
/// the same share after following the motion (<see cref="MotionField"/> between the two input frames, at most
/// <see cref="FlowWidth"/> pixels wide), over the pixels whose match is trusted, so that a moving camera's true motion
/// is not counted as flicker. Where the frames carry ground truth (the synthetic world): mIoU, depth RMSE and the label
/// error within <see cref="BoundaryBand"/> pixels of an object boundary, where a ghost trail would show.
/// </summary>
public sealed class StabilitySink(IReadOnlyList<string> classes) : IFrameSink
{
    private byte[] _prevLabels = [];
    private float[] _prevDepth = [], _rel = [];
    private readonly long[] _counts = new long[256];
    private readonly List<double> _flicker = [], _depthChange = [], _flowFlicker = [];
    private readonly List<float> _depthSample = [];
    private readonly MotionField _motion = new();
    private GrayPyramid _pyramid = new(), _previousPyramid = new();
    private readonly Mat _small = new(), _smallGray = new();
    private byte[] _gray = [], _flowLabels = [], _previousFlowLabels = [];
    private readonly SegmentationMetrics _segmentation = new(classes.Count);
    private readonly DepthMetrics _depth = new();
    private long _bandPixels, _bandErrors;
    private readonly Mat _dilated = new(), _eroded = new();
    private readonly Mat _kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(2 * BoundaryBand + 1, 2 * BoundaryBand + 1));

    /// <summary>The width the flow for flicker along the flow is measured at.</summary>
    public const int FlowWidth = 320;

    /// <summary>Pixels either side of a true object boundary that count as its band.</summary>
    public const int BoundaryBand = 3;

    public string Name => "stability";

    /// <summary>Reads labels and depth, never the drawn picture.</summary>

    public bool UsesPicture => false;
    public bool Lossless => true;
    public int Frames { get; private set; }

    public unsafe ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        var n = packet.Labels.Rows * packet.Labels.Cols;
        var labels = new ReadOnlySpan<byte>((void*)packet.Labels.Data, n);
        var depth = new ReadOnlySpan<float>((void*)packet.Depth.Data, n);
        if (Frames > 0 && _prevLabels.Length == n)
        {
            int changed = 0, m = 0;
            for (var i = 0; i < n; i++)
            {
                if (labels[i] != _prevLabels[i]) changed++;
                if (_prevDepth[i] > 0 && depth[i] > 0) _rel[m++] = Math.Abs(depth[i] - _prevDepth[i]) / _prevDepth[i];
            }
            _flicker.Add((double)changed / n);
            if (m > 0) _depthChange.Add(Percentile.Select(_rel.AsSpan(0, m), 0.5));
        }
        if (_prevLabels.Length != n) { _prevLabels = new byte[n]; _prevDepth = new float[n]; _rel = new float[n]; }
        for (var i = 0; i < n; i++) _counts[labels[i]]++;
        for (var i = 0; i < n; i += 97) if (depth[i] > 0 && float.IsFinite(depth[i])) _depthSample.Add(depth[i]);
        labels.CopyTo(_prevLabels);
        depth.CopyTo(_prevDepth);
        AlongFlow(packet, labels);
        Truth(packet, labels, depth);
        Frames++;
        return ValueTask.CompletedTask;
    }

    private unsafe void AlongFlow(FramePacket packet, ReadOnlySpan<byte> labels)
    {
        int fw = packet.Frame.Width, fh = packet.Frame.Height;
        int w = Math.Min(fw, FlowWidth), h = Math.Max(1, (int)Math.Round((double)fh * w / fw)), n = w * h;
        Cv2.Resize(packet.Frame.Image, _small, new Size(w, h), 0, 0, InterpolationFlags.Area);
        if (_small.Channels() == 1) _small.CopyTo(_smallGray);
        else Cv2.CvtColor(_small, _smallGray, _small.Channels() == 4 ? ColorConversionCodes.BGRA2GRAY : ColorConversionCodes.BGR2GRAY);
        var fresh = _gray.Length != n;
        if (fresh) { _gray = new byte[n]; _flowLabels = new byte[n]; _previousFlowLabels = new byte[n]; }
        for (var y = 0; y < h; y++)
        {
            new ReadOnlySpan<byte>((byte*)_smallGray.Ptr(y), w).CopyTo(_gray.AsSpan(y * w, w));
            var ly = Math.Min(fh - 1, (int)((y + 0.5) * fh / h));
            for (var x = 0; x < w; x++) _flowLabels[y * w + x] = labels[ly * fw + Math.Min(fw - 1, (int)((x + 0.5) * fw / w))];
        }
        (_pyramid, _previousPyramid) = (_previousPyramid, _pyramid);
        _pyramid.Fill(_gray, w, h, GrayPyramid.LevelsFor(w, h, 8));
        if (!fresh && Frames > 0)
        {
            _motion.Estimate(_pyramid, _previousPyramid);
            int trusted = 0, changed = 0;
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    var i = y * w + x;
                    if (_motion.Trusted[i] == 0) continue;
                    trusted++;
                    var j = (int)(y + _motion.FlowY[i] + 0.5f) * w + (int)(x + _motion.FlowX[i] + 0.5f);
                    if (_flowLabels[i] != _previousFlowLabels[j]) changed++;
                }
            if (trusted > 0) _flowFlicker.Add((double)changed / trusted);
        }
        (_flowLabels, _previousFlowLabels) = (_previousFlowLabels, _flowLabels);
    }

    private unsafe void Truth(FramePacket packet, ReadOnlySpan<byte> labels, ReadOnlySpan<float> depth)
    {
        var f = packet.Frame;
        var n = labels.Length;
        if (f.Depth is { } d && d.Width == f.Width && d.Height == f.Height && d.IsContinuous())
            _depth.Add(new ReadOnlySpan<float>((void*)d.Data, n), depth);
        if (f.Labels is not { } l || l.Width != f.Width || l.Height != f.Height || !l.IsContinuous()) return;
        var truth = new ReadOnlySpan<byte>((void*)l.Data, n);
        _segmentation.Add(truth, labels);
        Cv2.Dilate(l, _dilated, _kernel);
        Cv2.Erode(l, _eroded, _kernel);
        var hi = new ReadOnlySpan<byte>((void*)_dilated.Data, n);
        var lo = new ReadOnlySpan<byte>((void*)_eroded.Data, n);
        for (var i = 0; i < n; i++)
        {
            if (hi[i] == lo[i] || truth[i] == _segmentation.Ignore) continue;
            _bandPixels++;
            if (labels[i] != truth[i]) _bandErrors++;
        }
    }

    /// <summary>Flicker along the flow (mean share of trusted pixels whose class changed along the motion).</summary>
    public double FlowFlicker => _flowFlicker.Count == 0 ? double.NaN : _flowFlicker.Average();

    /// <summary>Against the frames' ground truth, where they had it: mIoU, depth RMSE (m), label error in the boundary band.</summary>
    public (double MeanIoU, double DepthRmse, double BoundaryError)? Accuracy => _segmentation.Pixels == 0 && _depth.Pixels == 0 ? null
        : (_segmentation.Pixels == 0 ? double.NaN : _segmentation.MeanIoU, _depth.Rmse,
            _bandPixels == 0 ? double.NaN : (double)_bandErrors / _bandPixels);

    /// <summary>The figures so far: mean flicker, median depth change, class shares, depth percentiles p5..p95 (metres).</summary>
    public (double Flicker, double DepthChange, Dictionary<string, double> Shares, Dictionary<string, double> DepthPercentiles) Figures()
    {
        var total = (double)_counts.Sum();
        var shares = classes.Select((name, i) => (name, share: total == 0 ? 0 : _counts[i] / total)).ToDictionary(x => x.name,
            x => Math.Round(x.share, 5));
        _depthSample.Sort();
        double P(double q) => _depthSample.Count == 0 ? double.NaN : Percentile.OfSorted(CollectionsMarshal.AsSpan(_depthSample), q);
        return (_flicker.Count == 0 ? double.NaN : _flicker.Average(), _depthChange.Count == 0 ? double.NaN : Percentile.Of(_depthChange, 0.5),
            shares,
            new Dictionary<string, double> { ["p5"] = P(0.05), ["p25"] = P(0.25), ["p50"] = P(0.5), ["p75"] = P(0.75), ["p95"] = P(0.95) });
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
