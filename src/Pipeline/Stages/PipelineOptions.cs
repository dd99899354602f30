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

    /// <summary>--batch: frames per model run at most (null: the number of cameras; the model may allow fewer).</summary>
    public int? MaxBatch { get; init; }

    /// <summary>--batch-timeout-ms: how long a batch waits for more cameras after its first frame (null: half the fastest camera's frame
    /// interval).</summary>
    public TimeSpan? BatchTimeout { get; init; }

    /// <summary>--sync-ms: group frames whose stamps lie within this window into one set, batched together (null: no sets).</summary>
    public TimeSpan? Sync { get; init; }

    /// <summary>--on-camera-failure stop: one camera's failure ends every camera (default: the others go on).</summary>
    public bool StopOnCameraFailure { get; init; }
}
