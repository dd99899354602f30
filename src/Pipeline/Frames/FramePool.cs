using OpenCvSharp;

namespace RealtimeMtl.Pipeline.Frames;

/// <summary>
/// Frames whose Mats are used again: a source that hands out copies of frames it holds (a replay, a synthetic camera's
/// cycle) copies the pixels into a frame that came back instead of allocating a frame and its Mats each time. A frame
/// goes back when its holder disposes it, as any frame is disposed; up to <paramref name="capacity"/> wait to be used
/// again, the rest are freed.
/// </summary>
public sealed class FramePool(int capacity = 16) : IDisposable
{
    private readonly Stack<Frame> _free = new(capacity);
    private bool _disposed;

    /// <summary>A frame with <paramref name="like"/>'s pixels and description under a new sequence number and capture
    /// time: one that came back when its shape matches, else a new copy.</summary>
    public Frame CopyOf(Frame like, long sequence, long timestampTicks)
    {
        Frame? frame = null;
        lock (_free) if (_free.Count > 0) frame = _free.Pop();
        if (frame is not null && !frame.SameShape(like))
        {
            frame.DisposeMats();
            frame = null;
        }
        frame ??= new Frame(sequence, timestampTicks, new Mat(like.Image.Size(), like.Image.Type()))
        {
            Depth = like.Depth is { } d ? new Mat(d.Size(), d.Type()) : null,
            Labels = like.Labels is { } l ? new Mat(l.Size(), l.Type()) : null,
        };
        frame.Refill(like, sequence, timestampTicks, this);
        return frame;
    }

    internal void Return(Frame frame)
    {
        lock (_free)
        {
            if (!_disposed && _free.Count < capacity)
            {
                _free.Push(frame);
                return;
            }
        }
        frame.DisposeMats();
    }

    /// <summary>Frees the frames waiting; those still out are freed when they are disposed.</summary>
    public void Dispose()
    {
        lock (_free)
        {
            _disposed = true;
            while (_free.Count > 0) _free.Pop().DisposeMats();
        }
    }
}
