using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>How a run ended: each camera's figures and fate, and the model runs'. The summary and its JSON are built from it
/// outside the core (the CLI's RunSummary).</summary>
public sealed record EngineRun(IReadOnlyList<EngineRun.CameraEnd> Cameras, BatchStats Batches, TimeSpan BatchTimeout, TimeSpan? Sync,
    int Instances, bool Interrupted)
{
    /// <summary>One camera: its stats, why its source ended early (null: it did not), and the stage failure that ended it.</summary>
    public sealed record CameraEnd(string Name, PipelineStats Stats, string? SourceError, string? StageError);

    /// <summary>The stage failure that ended the run (every camera has it) or else the first camera's own.</summary>
    public string? StageError => Cameras.Select(c => c.StageError).FirstOrDefault(e => e is not null);

    /// <summary>Frames out, of all cameras.</summary>
    public long Frames => Cameras.Sum(c => c.Stats.FramesOut);
}
