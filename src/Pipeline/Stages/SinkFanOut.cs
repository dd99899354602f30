using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Sinks;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// One channel and one task per sink. Lossless sinks (recorder, raw dump) wait, so they get every frame in order;
/// lossy sinks (window, web view, feeds) keep only the newest frame and never stall inference. A sink that fails
/// stops taking frames with one line; the others go on, and every sink is finalised at the end.
/// </summary>
public sealed class SinkFanOut
{
    private readonly IReadOnlyList<IFrameSink> _sinks;
    private readonly Channel<FramePacket>[] _channels;
    private readonly PipelineStats _stats;
    private readonly IEventLog _log;

    public SinkFanOut(IReadOnlyList<IFrameSink> sinks, int losslessCapacity, PipelineStats stats, IEventLog log)
    {
        _sinks = sinks;
        _stats = stats;
        _log = log;
        _channels = sinks.Select(s => s.Lossless
            ? Channel.CreateBounded<FramePacket>(new BoundedChannelOptions(losslessCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true, SingleWriter = true
            })
            : Channel.CreateBounded<FramePacket>(new BoundedChannelOptions(1)
            {
                FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true,
                SingleWriter = true
            },
                dropped => { dropped.Release(); stats.ViewerDrop(); })).ToArray();
    }

    /// <summary>
    /// Hands the packet to every sink that wants it (one reference each); the caller keeps its own. Sinks share it and
    /// must not change it: with <see cref="FramePacket.CheckSharedWrites"/> a sink that does is stopped as a failed sink.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // a wait for a slow sink's room is pooled: no allocation per frame
    public async ValueTask PublishAsync(FramePacket packet)
    {
        if (FramePacket.CheckSharedWrites) packet.Seal();
        for (var i = 0; i < _sinks.Count; i++)
        {
            var sink = _sinks[i];
            if (!sink.Lossless && !sink.Wanted) continue;
            packet.AddRef();
            var writer = _channels[i].Writer;
            if (sink.Lossless)
            {
                try { await writer.WriteAsync(packet).ConfigureAwait(false); }
                catch (ChannelClosedException) { packet.Release(); }
            }
            else if (!writer.TryWrite(packet)) packet.Release();
        }
    }

    /// <summary>Whether a sink that gets the next frame reads its picture (a lossless one, or a lossy one someone watches).</summary>
    public bool PictureWanted
    {
        get
        {
            // By index: a foreach over the interface would box an enumerator on every frame.
            for (var i = 0; i < _sinks.Count; i++)
                if (_sinks[i].UsesPicture && (_sinks[i].Lossless || _sinks[i].Wanted)) return true;
            return false;
        }
    }

    public void Complete()
    {
        foreach (var c in _channels) c.Writer.TryComplete();
    }

    /// <summary>The sink tasks: each drains its channel, then finalises its sink.</summary>
    public Task[] Start() => _sinks.Select((s, i) => Task.Run(() => RunSinkAsync(s, _channels[i].Reader))).ToArray();

    /// <summary>The sink's write, alone on this packet, failing if the packet was clean before it and changed after.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask CheckedWriteAsync(IFrameSink sink, FramePacket packet)
    {
        await packet.SinkGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var cleanBefore = !packet.ChangedSinceSealed();
            await sink.WriteAsync(packet, CancellationToken.None).ConfigureAwait(false);
            if (cleanBefore && packet.ChangedSinceSealed())
            {
                packet.Blame();
                throw new InvalidOperationException("it changed the shared frame packet (other sinks read the same pixels: copy before drawing)");
            }
        }
        finally { packet.SinkGate.Release(); }
    }

    private async Task RunSinkAsync(IFrameSink sink, ChannelReader<FramePacket> reader)
    {
        var recorder = _stats.SinkRecorder(sink.Name);
        var failed = false;
        await foreach (var packet in reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (!failed)
                {
                    var t = Stopwatch.GetTimestamp();
                    if (FramePacket.CheckSharedWrites) await CheckedWriteAsync(sink, packet).ConfigureAwait(false);
                    else await sink.WriteAsync(packet, CancellationToken.None).ConfigureAwait(false);
                    recorder.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
            }
            catch (Exception e)
            {
                failed = true;
                _stats.SinkError(sink.Name);
                _log.Warning($"sink {sink.Name} failed at frame {packet.Sequence}: {e.Message}; the run goes on without it.");
            }
            finally { packet.Release(); }
        }
        try { await sink.CompleteAsync().ConfigureAwait(false); }
        catch (Exception e)
        {
            _stats.SinkError(sink.Name);
            _log.Warning($"sink {sink.Name} could not finish cleanly: {e.Message}");
        }
    }
}
