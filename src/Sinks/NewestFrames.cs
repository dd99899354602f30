using System.Threading.Channels;
using OpenCvSharp;

namespace RealtimeMtl.Sinks;

/// <summary>
/// A small queue of frames for a consumer on its own thread (the window's UI thread): when it is full, the oldest
/// frame is dropped and disposed, so the consumer always gets the newest frames.
/// </summary>
public sealed class NewestFrames(int capacity)
{
    private readonly Channel<Mat> _channel = Channel.CreateBounded<Mat>(
        new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
        dropped => { dropped.Dispose(); });

    /// <summary>Takes ownership of <paramref name="frame"/>; after <see cref="Complete"/> it is disposed at once.</summary>
    public void Add(Mat frame)
    {
        if (!_channel.Writer.TryWrite(frame)) frame.Dispose();
    }

    /// <summary>The next frame, waiting for one; null once completed and empty. The caller disposes it.</summary>
    public Mat? Take()
    {
        while (_channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            if (_channel.Reader.TryRead(out var m)) return m;
        return null;
    }

    public void Complete() => _channel.Writer.TryComplete();

    public void Clear()
    {
        while (_channel.Reader.TryRead(out var m)) m.Dispose();
    }
}
