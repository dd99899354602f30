namespace RealtimeMtl.Distributed.Jobs;

/// <summary>
/// Where a job stands: queued (waiting, or returned by a stopping worker), running, retrying (a transient failure;
/// redelivered after a delay), done (outputs committed), failed (bad input, or out of attempts; never retried).
/// </summary>
public enum JobState { Queued, Running, Retrying, Done, Failed }
