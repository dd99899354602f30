using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Cli.Commands;

/// <summary>Says once when the first processed frame reaches the sinks (a worker's "first frame" time), then wants no more.</summary>
internal sealed class FirstFrameProbe(Action first) : IFrameSink
{
    private int _seen;
    public string Name => "first-frame";
    public bool Lossless => false;
    public bool Wanted => Volatile.Read(ref _seen) == 0;

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _seen, 1) == 0) first();
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
