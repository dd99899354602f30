using System.Threading.Channels;

namespace RealtimeMtl.Common.Concurrency;

/// <summary>
/// The one "newest wins" hand-over that lossy consumers use (the window's UI thread, each web viewer, feed
/// subscriber and Foxglove client): a bounded queue that, when full, drops its oldest item, hands it to
/// <c>onDropped</c> (to dispose it, say) and counts it. A consumer that falls behind skips to the newest; a producer
/// never waits.
/// </summary>
public sealed class NewestWins<T>
{
    private readonly Channel<T> _channel;
    private readonly Action<T>? _onDropped;
    private long _dropped;

    public NewestWins(int capacity, Action<T>? onDropped = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _onDropped = onDropped;
        _channel = Channel.CreateBounded<T>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            Dropped);
    }

    /// <summary>Items dropped because the consumer was behind.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    public ChannelReader<T> Reader => _channel.Reader;

    /// <summary>Adds the item (dropping the oldest when full). False once completed: the item was not taken (and is dropped too).</summary>
    public bool Offer(T item)
    {
        if (_channel.Writer.TryWrite(item)) return true;
        _onDropped?.Invoke(item);
        return false;
    }

    /// <summary>No more items: the consumer drains what is queued, then its reads end.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>Drops everything queued (through <c>onDropped</c>).</summary>
    public void Clear()
    {
        while (_channel.Reader.TryRead(out var item)) _onDropped?.Invoke(item);
    }

    private void Dropped(T item)
    {
        Interlocked.Increment(ref _dropped);
        _onDropped?.Invoke(item);
    }
}
