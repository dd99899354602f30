using System.Text.Json;

namespace RealtimeMtl.Distributed.Jobs;

/// <summary>A job's row in the key-value bucket: what <c>rtmtl jobs</c> shows.</summary>
public sealed record JobStatus
{
    public required string Id { get; init; }
    public required JobState State { get; init; }
    public required string Source { get; init; }
    public required string Output { get; init; }
    public JobKind Kind { get; init; }
    public int Run { get; init; } = 1;
    public string? Worker { get; init; }
    public long FramesDone { get; init; }
    public long? FramesTotal { get; init; }
    public double? Fps { get; init; }
    /// <summary>Deliveries so far (1 = first attempt).</summary>
    public int Attempts { get; init; }
    public string? Reason { get; init; }
    /// <summary>Where the results are: the folder under the out root, or the object store's prefix.</summary>
    public string? Results { get; init; }
    public DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FirstFrameAt { get; init; }
    /// <summary>When the engine ended the run (before the outputs were committed).</summary>
    public DateTimeOffset? EndedAt { get; init; }
    /// <summary>When the job reached its final state (outputs committed, or failed).</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; } = DateTimeOffset.UtcNow;

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinal => State is JobState.Done or JobState.Failed;

    /// <summary>Seconds left at the current rate, when the length is known.</summary>
    public double? EtaSeconds => State == JobState.Running && FramesTotal is { } t && Fps is > 0 ? Math.Max(0, t - FramesDone) / Fps : null;

    public static JobStatus QueuedFor(JobSpec job) => new()
    {
        Id = job.Id, State = JobState.Queued, Source = job.Source, Output = job.Output, Kind = job.Kind, Run = job.Run, SubmittedAt = job.SubmittedAt,
    };

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, JobJson.Options);
    public static JobStatus Parse(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize<JobStatus>(utf8, JobJson.Options)!;
}
