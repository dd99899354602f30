using System.Collections.Concurrent;
using RealtimeMtl.Pipeline.Frames;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// Packets for reuse: a released packet keeps its Mats, so the next frame of the same size writes into buffers that
/// already exist (no native allocation, no new managed wrappers). Holds at most <paramref name="capacity"/> packets;
/// more in flight (a slow lossless sink) are created and, once released, disposed.
/// </summary>
public sealed class FramePacketPool(int capacity = 16)
{
    private readonly ConcurrentQueue<FramePacket> _free = new();
    private int _count;

    public FramePacket Rent(Frame frame)
    {
        if (_free.TryDequeue(out var p)) Interlocked.Decrement(ref _count);
        else p = new FramePacket(this);
        p.Reset(frame);
        return p;
    }

    /// <summary>Disposes the pooled packets' Mats (after a run, when every packet is back).</summary>
    public void Clear()
    {
        while (_free.TryDequeue(out var p)) { Interlocked.Decrement(ref _count); p.DisposeMats(); }
    }

    internal bool Return(FramePacket packet)
    {
        if (Interlocked.Increment(ref _count) > capacity)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }
        _free.Enqueue(packet);
        return true;
    }
}
