namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// Frames held in memory, replayed in a loop: each frame handed out is a copy of one of them into a pooled frame (the
/// copy costs about what a camera driver's buffer hand-off does, and, as a driver's buffers, the frames are used again).
/// rtmtl bench uses it so the pipeline figure measures the engine, not the synthetic renderer that made the frames.
/// </summary>
public sealed class ReplaySource : IFrameSource
{
    private readonly IReadOnlyList<Frame> _frames;
    private readonly long _count;
    private readonly FramePool _pool = new();

    public ReplaySource(IReadOnlyList<Frame> frames, long count, string description)
    {
        if (frames.Count == 0) throw new ArgumentException("a replay needs at least one frame", nameof(frames));
        _frames = frames;
        _count = count;
        Description = description;
        NominalFps = frames[0].NominalFps;
    }

    public string Description { get; }
    public bool IsLive => false;
    public double? NominalFps { get; }
    public long? FrameCount => _count;

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (long i = 0; i < _count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var f = _frames[(int)(i % _frames.Count)];
            yield return _pool.CopyOf(f, i, Stopwatch.GetTimestamp());
            if (i % 8 == 0) await Task.Yield();
        }
    }

    public ValueTask DisposeAsync()
    {
        _pool.Dispose();
        return ValueTask.CompletedTask;
    }
}
