namespace RealtimeMtl.Distributed.Jobs;

/// <summary>
/// The consumer's delivery rules. <see cref="AckWait"/>: how long a worker may stay silent before its job goes to
/// another (a running worker sends in-progress acknowledgements well within it; a dead one is noticed after it).
/// <see cref="MaxDeliver"/>: deliveries before a job that keeps failing transiently is given up.
/// </summary>
public sealed record QueueSettings
{
    public TimeSpan AckWait { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxDeliver { get; init; } = 5;
}
