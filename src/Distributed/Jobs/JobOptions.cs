namespace RealtimeMtl.Distributed.Jobs;

/// <summary>The subset of <c>rtmtl run</c>'s options a job may carry.</summary>
public sealed record JobOptions
{
    /// <summary>overlay, side or quad.</summary>
    public string Layout { get; init; } = "side";
    /// <summary>Write the annotated video (annotated.mp4).</summary>
    public bool Record { get; init; } = true;
    /// <summary>Write per-frame labels, depth and JSON (raw/).</summary>
    public bool SaveRaw { get; init; }
    public bool Smooth { get; init; }
    public long? MaxFrames { get; init; }
    /// <summary>'min,max' in metres, 'auto' or 'model' (null: the engine's default).</summary>
    public string? DepthRange { get; init; }
    /// <summary>Pace at the source's rate and treat it as live (a synthetic test camera).</summary>
    public bool Realtime { get; init; }
    /// <summary>Also publish compressed labels (PNG) and depth (PNG16, mm) on the bus with each frame's results.</summary>
    public bool PublishMaps { get; init; }
}
