using RealtimeMtl.Distributed.Jobs;

namespace RealtimeMtl.Distributed.Worker;

/// <summary>Runs one job through the engine (the CLI composes it exactly as <c>rtmtl run</c> does).</summary>
public interface IJobRunner
{
    /// <summary>Cancelling <paramref name="stop"/> ends the run after the current frame (outputs finalised); the outcome is then Stopped.</summary>
    Task<JobOutcome> RunAsync(JobRun run, CancellationToken stop);
}

/// <summary>
/// One attempt at a job: the resolved source (a path under the input root, or a URL), the resolved model, the folder to
/// write into (a partial folder, committed when complete), and where progress goes.
/// </summary>
public sealed record JobRun(JobSpec Job, string Source, string? Model, string OutputFolder, string Worker, Action<JobProgress> Progress);

public sealed record JobProgress(long FramesDone, long? FramesTotal, double Fps);

/// <summary>Completed; BadInput (the exit-2 class: never retried); Failed (transient: retried later); Stopped (the worker is leaving).</summary>
public enum OutcomeKind { Completed, BadInput, Failed, Stopped }

public sealed record JobOutcome(OutcomeKind Kind, long Frames, string? Reason = null);
