namespace RealtimeMtl.Distributed.Worker;

/// <summary>A job this worker will not run (outside its roots, missing input): it fails once, with this reason, and is not retried.</summary>
public sealed class JobRefusedException(string message) : Exception(message);
