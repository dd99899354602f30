using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// The stream muxer: forms batches from the cameras' capture channels. It takes the newest frame of every camera that
/// has one, up to <c>maxBatch</c> frames; a batch closes when it is full, when every camera still running is in it, or
/// <c>timeout</c> after its first frame, so a stalled camera never holds the others. With more cameras than a batch,
/// cameras take turns. Nothing is dropped here: a live camera's channel already keeps only its newest frame, and a file
/// camera's channel waits. One camera is a batch of one, taken at once.
/// The capture stages wake it through one <see cref="ReadySignal"/>; waiting allocates nothing.
/// </summary>
public sealed class StreamMuxer(IReadOnlyList<StreamMuxer.Input> inputs, int maxBatch, TimeSpan timeout, BatchStats stats, TimeSpan? sync,
    ReadySignal ready)
{
    /// <summary>One camera as the muxer sees it: its captured frames, and whether it is live (file cameras are waited for in a set).</summary>
    public sealed record Input(string Name, ChannelReader<Frame> Frames, bool Live);

    /// <summary>One camera's frame in a batch, by the camera's index.</summary>
    public readonly record struct Entry(int Camera, Frame Frame);

    /// <summary>A set's figures (--sync-ms), for the packets of the batch it became.</summary>
    public readonly record struct SetInfo(long Id, int Size, long SpreadNs);

    private readonly bool[] _taken = new bool[inputs.Count];
    private readonly bool[] _done = new bool[inputs.Count];
    private readonly Frame?[] _held = new Frame?[inputs.Count];
    private readonly long[] _heldAt = new long[inputs.Count];
    private readonly long _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
    private int _start;
    private long _sets;

    public IReadOnlyList<Input> Inputs => inputs;

    /// <summary>
    /// Fills <paramref name="batch"/> with the next batch; returns its size (0: every camera has ended) and, with
    /// --sync-ms, the set it forms (null: a frame that went on without a complete set).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // a wait's state is pooled: no allocation per batch
    public async ValueTask<(int Count, SetInfo? Set)> NextAsync(Entry[] batch)
    {
        if (sync is { } window) return await NextSetAsync(batch, window).ConfigureAwait(false);
        var n = await CollectAsync(batch).ConfigureAwait(false);
        if (n > 0) _start = (_start + n) % inputs.Count; // round robin when more cameras than the batch
        return (n, null);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> CollectAsync(Entry[] batch)
    {
        Array.Clear(_taken);
        var n = 0;
        long deadline = 0;
        while (true)
        {
            var waiting = 0;
            for (var k = 0; k < inputs.Count && n < maxBatch; k++)
            {
                var i = (_start + k) % inputs.Count;
                if (_taken[i] || _done[i]) continue;
                if (inputs[i].Frames.TryRead(out var frame))
                {
                    batch[n++] = new Entry(i, frame);
                    _taken[i] = true;
                }
                else if (inputs[i].Frames.Completion.IsCompleted) _done[i] = true;
                else waiting++;
            }
            if (n == maxBatch || waiting == 0) return n;
            if (n > 0)
            {
                if (deadline == 0) deadline = Stopwatch.GetTimestamp() + Math.Max(1, _timeoutTicks);
                if (Stopwatch.GetTimestamp() >= deadline) return n;
            }
            // Until a camera has a frame (or ends), or the batch's deadline.
            await ready.WaitAsync(deadline).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// --sync-ms: like ROS 2 message_filters' ApproximateTime policy. Holds one frame per running camera; when every
    /// camera has one and their stamps (the sensor's time where known) lie within the window, they are one set, run
    /// as one batch. Otherwise the oldest held frame goes on alone and counts as a set its camera could not complete,
    /// as do the frames held when a live camera stays silent for the whole window. A file camera is waited for (its
    /// next frame comes when the engine reads it), so the sets of a run over files depend on the stamps alone.
    /// No frame is dropped here.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(int, SetInfo?)> NextSetAsync(Entry[] batch, TimeSpan window)
    {
        var windowNs = (long)(window.TotalMilliseconds * 1_000_000);
        var windowTicks = (long)(window.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            int holding = 0, running = 0, oldest = -1, firstHeld = -1;
            long min = long.MaxValue, max = long.MinValue;
            var liveMissing = false;
            for (var i = 0; i < inputs.Count; i++)
            {
                if (_held[i] is null && !_done[i])
                {
                    if (inputs[i].Frames.TryRead(out var f)) { _held[i] = f; _heldAt[i] = Stopwatch.GetTimestamp(); }
                    else if (inputs[i].Frames.Completion.IsCompleted) _done[i] = true;
                }
                if (!_done[i]) running++;
                if (_held[i] is not { } frame) { liveMissing |= !_done[i] && inputs[i].Live; continue; }
                holding++;
                var stamp = FrameTime.Stamp(frame).UnixNs;
                if (stamp < min) { min = stamp; oldest = i; }
                max = Math.Max(max, stamp);
                if (firstHeld < 0 || _heldAt[i] < _heldAt[firstHeld]) firstHeld = i;
            }
            if (holding == 0 && running == 0) return (0, null);
            if (holding > 0 && holding == running)
            {
                if (max - min <= windowNs && holding <= maxBatch)
                {
                    var id = _sets++;
                    stats.CompleteSet();
                    var n = 0;
                    for (var i = 0; i < inputs.Count; i++)
                        if (_held[i] is { } f) { batch[n++] = new Entry(i, f); _held[i] = null; }
                    return (n, new SetInfo(id, n, max - min));
                }
                // Too far apart: the oldest goes on alone; its camera could not complete this set.
                return (Alone(batch, oldest), null);
            }
            var deadline = holding > 0 && liveMissing ? _heldAt[firstHeld] + windowTicks : 0;
            // A live camera stayed silent for the whole window: the oldest held frame goes on, counted as incomplete.
            if (deadline != 0 && Stopwatch.GetTimestamp() >= deadline) return (Alone(batch, oldest), null);
            await ready.WaitAsync(deadline).ConfigureAwait(false);
        }
    }

    private int Alone(Entry[] batch, int i)
    {
        stats.IncompleteSet(inputs[i].Name);
        batch[0] = new Entry(i, _held[i]!);
        _held[i] = null;
        return 1;
    }
}
