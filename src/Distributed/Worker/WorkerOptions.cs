using RealtimeMtl.Distributed.Jobs;

namespace RealtimeMtl.Distributed.Worker;

public sealed record WorkerOptions
{
    /// <summary>This worker's name in the job table (default: host-pid).</summary>
    public required string Name { get; init; }
    public int Concurrency { get; init; } = 1;
    /// <summary>Job sources (and models) are paths under this folder.</summary>
    public required string InputRoot { get; init; }
    /// <summary>Result folders go here (shared storage), or are staged here before the object store.</summary>
    public required string OutRoot { get; init; }
    public bool ResultsToObjectStore { get; init; }
    public QueueSettings Queue { get; init; } = new();
    /// <summary>A transient failure is redelivered after this delay.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>On stop, a file job that would finish within this time is finished; a longer one goes back to the queue.</summary>
    public TimeSpan FinishWithin { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Leave after this many jobs (0: run until stopped); handy for batch machines and tests.</summary>
    public int MaxJobs { get; init; }
}
