namespace RealtimeMtl.Pipeline.Stages;

public sealed record PipelineOptions
{
    /// <summary>Stop after this many frames (null: until the source ends or Ctrl+C).</summary>
    public long? MaxFrames { get; init; }

    /// <summary>Capacity of the capture channel for live sources (drop-oldest).</summary>
    public int LiveCapacity { get; init; } = 1;

    /// <summary>Capacity of the channels between stages for files (wait, nothing lost).</summary>
    public int FileCapacity { get; init; } = 2;

    /// <summary>Compare predictions with the source's depth and labels as frames pass.</summary>
    public bool MeasureQuality { get; init; } = true;

    /// <summary>Treat the source as live (drop-oldest) even if it is a file; null = ask the source.</summary>
    public bool? ForceLive { get; init; }
}
