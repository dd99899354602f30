namespace RealtimeMtl.Pipeline.Stages;

/// <summary>Running quality against the source's ground truth (src/Quality implements it); NaN where nothing was scored.</summary>
public readonly record struct QualityFigures(double MeanIoU, double PixelAccuracy, double Rmse, double AbsRel, double Delta1, long SegPixels,
    long DepthPixels)
{
    public static QualityFigures None { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0);
}

/// <summary>Scores each inferred packet against the frame's ground-truth labels and depth, when it has them.</summary>
public interface IQualityMeter
{
    /// <summary>Called by the infer stage on its thread, after upsampling; must be thread-safe with <see cref="Snapshot"/>.</summary>
    void Score(FramePacket packet);

    QualityFigures Snapshot();
}
