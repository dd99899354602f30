using OpenCvSharp;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Quality;

/// <summary>
/// The engine's live scoring: each packet's predicted labels and depth against the frame's ground truth (same size),
/// accumulated into <see cref="SegmentationMetrics"/> and <see cref="DepthMetrics"/>, the metrics Training reports.
/// </summary>
public sealed class LiveQuality(int classes) : IQualityMeter
{
    private readonly Lock _gate = new();

    public SegmentationMetrics Segmentation { get; } = new(classes);
    public DepthMetrics Depth { get; } = new();

    public unsafe void Score(FramePacket p)
    {
        var n = p.Frame.Width * p.Frame.Height;
        ReadOnlySpan<byte> truthLabels = default, predLabels = default;
        ReadOnlySpan<float> truthDepth = default, predDepth = default;
        if (Fits(p.Frame.Labels, p) && Fits(p.Labels, p))
        {
            truthLabels = new ReadOnlySpan<byte>((void*)p.Frame.Labels!.Data, n);
            predLabels = new ReadOnlySpan<byte>((void*)p.Labels.Data, n);
        }
        if (Fits(p.Frame.Depth, p) && Fits(p.Depth, p))
        {
            truthDepth = new ReadOnlySpan<float>((void*)p.Frame.Depth!.Data, n);
            predDepth = new ReadOnlySpan<float>((void*)p.Depth.Data, n);
        }
        lock (_gate)
        {
            if (!truthLabels.IsEmpty) Segmentation.Add(truthLabels, predLabels);
            if (!truthDepth.IsEmpty) Depth.Add(truthDepth, predDepth);
        }
    }

    private static bool Fits(Mat? m, FramePacket p) => m is not null && m.Width == p.Frame.Width && m.Height == p.Frame.Height && m.IsContinuous();

    public QualityFigures Snapshot()
    {
        lock (_gate)
            return new QualityFigures(Segmentation.MeanIoU, Segmentation.PixelAccuracy, Depth.Rmse, Depth.AbsRel, Depth.Delta1, Segmentation.Pixels,
                Depth.Pixels);
    }
}
