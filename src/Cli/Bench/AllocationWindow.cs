using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Cli.Bench;

/// <summary>
/// A lossless sink that reads the process's allocated-bytes counter when frame <paramref name="from"/> and frame
/// <paramref name="to"/> reach the end of the pipeline: the managed allocation of the steady state, without the
/// run's fixed costs (starting ffmpeg, the summary at the end).
/// </summary>
public sealed class AllocationWindow(long from, long to) : IFrameSink
{
    private long _start = -1, _end = -1, _first = -1, _last = -1;

    public string Name => "allocation-window";
    public bool Lossless => true;

    /// <summary>Bytes per frame between the two frames; NaN when the run did not reach both.</summary>
    public double BytesPerFrame => _start < 0 || _end < 0 || _last <= _first ? double.NaN : (double)(_end - _start) / (_last - _first);

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        if (_start < 0 && packet.Sequence >= from) { _start = GC.GetTotalAllocatedBytes(true); _first = packet.Sequence; }
        else if (_start >= 0 && packet.Sequence <= to) { _end = GC.GetTotalAllocatedBytes(true); _last = packet.Sequence; }
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
