using System.Diagnostics;
using System.Threading.Channels;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// The stream muxer: takes the newest frame of every camera that has one, up to <c>maxBatch</c> frames, runs the model
/// once on them and hands each camera's packet to that camera's render channel. A batch closes when it is full, when
/// every camera still running is in it, or <c>timeout</c> after its first frame, so a stalled camera never holds the
/// others. Nothing is dropped here: a live camera's channel already keeps only its newest frame, and a file camera's
/// channel waits. One camera is a batch of one, run at once.
/// Post-processing (labels and depth to frame size, scoring) runs on each camera's own worker, in that camera's order,
/// while the muxer runs the next batch: the model's outputs are copied into one of the camera's three output buffers,
/// so the next run cannot overwrite them, and a camera whose posts lag holds the muxer (no frame is lost).
/// With a model of several instances (<see cref="IMtlModel.Instances"/>), up to that many batches run at once, each on
/// a free instance; their outputs reach the cameras' workers in the order the batches were taken, so every camera's
/// frames stay in order.
/// </summary>
public sealed class BatchStage(IMtlModel model, int maxBatch, TimeSpan timeout, BatchStats stats, TimeSpan? sync = null)
{
    private long _sets;
    /// <summary>One camera as the muxer sees it: its frames in, its infer bookkeeping, its packets out.</summary>
    public sealed record Lane(string Name, ChannelReader<Frame> Frames, InferStage Infer, ChannelWriter<FramePacket> Output);

    /// <summary>One camera's post-processing: its queue of model results and its free output buffers.</summary>
    private sealed class PostWorker
    {
        public const int Buffers = 3;
        public Channel<(FramePacket Packet, ModelOutputs Outputs, double PreMs, long ModelStart, long ModelEnd)> Queue { get; } =
            Channel.CreateBounded<(FramePacket, ModelOutputs, double, long, long)>(new BoundedChannelOptions(Buffers)
            {
                SingleReader = true,
                SingleWriter = true
            });
        public Channel<ModelOutputs> Free { get; } = Channel.CreateUnbounded<ModelOutputs>();
        public Task Task { get; set; } = Task.CompletedTask;
        public readonly List<ModelOutputs> All = [];

        public PostWorker()
        {
            for (var i = 0; i < Buffers; i++)
            {
                var b = new ModelOutputs(new OpenCvSharp.Mat(), new OpenCvSharp.Mat(), new OpenCvSharp.Mat());
                All.Add(b);
                Free.Writer.TryWrite(b);
            }
        }
    }

    private Dictionary<Lane, PostWorker> _workers = [];

    private static async Task PostAsync(Lane lane, PostWorker worker, StageFault fault)
    {
        await foreach (var (packet, outputs, pre, t1, t2) in worker.Queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            // Frames the model finished before a fault still reach their sinks, as when posts ran inline.
            var handed = false;
            try
            {
                lane.Infer.Complete(packet, outputs, pre, t1, t2);
                worker.Free.Writer.TryWrite(outputs);
                await lane.Output.WriteAsync(packet).ConfigureAwait(false);
                handed = true;
            }
            catch (Exception e)
            {
                worker.Free.Writer.TryWrite(outputs);
                fault.Report("infer", packet.Sequence, e);
            }
            if (!handed) packet.Release();
        }
    }

    public async Task RunAsync(IReadOnlyList<Lane> lanes, StageFault fault)
    {
        var instances = Math.Max(1, model.Instances);
        var batches = Enumerable.Range(0, instances).Select(_ => new (Lane Lane, Frame Frame)[maxBatch]).ToArray();
        var packets = Enumerable.Range(0, instances).Select(_ => new FramePacket[maxBatch]).ToArray();
        var free = Channel.CreateUnbounded<int>();
        for (var k = 0; k < instances; k++) free.Writer.TryWrite(k);
        var taken = new bool[lanes.Count];
        var done = new bool[lanes.Count];
        var start = 0;
        // The last batch taken: the next one hands its outputs on only after it, so each camera's frames stay in order.
        var previous = Task.CompletedTask;
        _workers = lanes.ToDictionary(l => l, _ => new PostWorker());
        foreach (var (lane, worker) in _workers) worker.Task = Task.Run(() => PostAsync(lane, worker, fault));
        try
        {
            var held = new Frame?[lanes.Count];
            while (true)
            {
                var k = await free.Reader.ReadAsync().ConfigureAwait(false);
                var batch = batches[k];
                var n = sync is { } window
                    ? await CollectSetAsync(lanes, batch, held, done, window).ConfigureAwait(false)
                    : await CollectAsync(lanes, batch, taken, done, start).ConfigureAwait(false);
                if (n == 0) break;
                start = (start + n) % lanes.Count; // round robin when more cameras than the batch
                if (fault.IsFaulted)
                {
                    for (var i = 0; i < n; i++) batch[i].Frame.Dispose();
                    free.Writer.TryWrite(k);
                    continue;
                }
                // Packets are taken here, in the cameras' order, before the run goes to its instance.
                var t0 = Stopwatch.GetTimestamp();
                for (var i = 0; i < n; i++)
                {
                    packets[k][i] = batch[i].Lane.Infer.Packet(batch[i].Frame);
                    packets[k][i].InferStartTicks = t0;
                    if (_pendingSet is { } set)
                    {
                        packets[k][i].SetId = set.Id; packets[k][i].SetSize = set.Size; packets[k][i].SetSpreadNs =
                        set.SpreadNs;
                    }
                }
                _pendingSet = null;
                var after = previous;
                var slot = k;
                var count = n;
                previous = instances == 1
                    ? RunBatchAsync(model, batch, packets[slot], count, after, fault, free, slot)
                    : Task.Run(() => RunBatchAsync(model.Instance(slot), batches[slot], packets[slot], count, after, fault, free, slot));
            }
            await previous.ConfigureAwait(false);
        }
        catch (Exception e) { fault.Report("infer", -1, e); }
        finally
        {
            // The posts in flight finish (in each camera's order) before the cameras' outputs end.
            foreach (var w in _workers.Values) w.Queue.Writer.TryComplete();
            foreach (var w in _workers.Values)
            {
                try { await w.Task.ConfigureAwait(false); } catch (Exception e) { fault.Report("infer", -1, e); }
                foreach (var b in w.All) { b.Labels.Dispose(); b.Depth.Dispose(); b.Confidence?.Dispose(); }
            }
            foreach (var lane in lanes) lane.Output.TryComplete();
            // Whatever still arrives (the capture stages stop at the next frame after a fault) is released.
            foreach (var lane in lanes)
            {
                try { await foreach (var frame in lane.Frames.ReadAllAsync().ConfigureAwait(false)) frame.Dispose(); }
                catch (ChannelClosedException) { }
            }
        }
    }

    /// <summary>Fills the batch; returns its size, 0 when every camera has ended.</summary>
    private async Task<int> CollectAsync(IReadOnlyList<Lane> lanes, (Lane, Frame)[] batch, bool[] taken, bool[] done, int start)
    {
        Array.Clear(taken);
        var n = 0;
        long deadline = 0;
        while (true)
        {
            var waiting = 0;
            for (var k = 0; k < lanes.Count && n < maxBatch; k++)
            {
                var i = (start + k) % lanes.Count;
                if (taken[i] || done[i]) continue;
                if (lanes[i].Frames.TryRead(out var frame))
                {
                    batch[n++] = (lanes[i], frame);
                    taken[i] = true;
                }
                else if (lanes[i].Frames.Completion.IsCompleted) done[i] = true;
                else waiting++;
            }
            if (n == maxBatch || waiting == 0) return n;
            var now = Stopwatch.GetTimestamp();
            if (n > 0)
            {
                if (deadline == 0) deadline = now + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
                if (now >= deadline) return n;
            }
            // Wait for a camera not yet in the batch to have a frame (or to end), or for the batch's deadline.
            var waits = new List<Task>(waiting + 1);
            for (var i = 0; i < lanes.Count; i++)
                if (!taken[i] && !done[i]) waits.Add(lanes[i].Frames.WaitToReadAsync().AsTask());
            if (n > 0) waits.Add(Task.Delay(TimeSpan.FromSeconds(Math.Max(0, (deadline - now) / (double)Stopwatch.Frequency))));
            await Task.WhenAny(waits).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// --sync-ms: like ROS 2 message_filters' ApproximateTime policy. Holds one frame per running camera; when every
    /// camera has one and their stamps (the sensor's time where known) lie within the window, they are one set, run
    /// as one batch. Otherwise the oldest held frame goes on alone and counts as a set its camera could not complete,
    /// as do the frames held when a camera stays silent for the whole window. No frame is dropped here.
    /// </summary>
    private async Task<int> CollectSetAsync(IReadOnlyList<Lane> lanes, (Lane, Frame)[] batch, Frame?[] held, bool[] done, TimeSpan window)
    {
        if (_heldAt.Length != lanes.Count) _heldAt = new long[lanes.Count];
        while (true)
        {
            for (var i = 0; i < lanes.Count; i++)
            {
                if (held[i] is not null || done[i]) continue;
                if (lanes[i].Frames.TryRead(out var f)) { held[i] = f; _heldAt[i] = Stopwatch.GetTimestamp(); }
                else if (lanes[i].Frames.Completion.IsCompleted) done[i] = true;
            }
            var holding = Enumerable.Range(0, lanes.Count).Where(i => held[i] is not null).ToList();
            var first = holding.Count == 0 ? 0 : holding.Min(i => _heldAt[i]);
            var running = Enumerable.Range(0, lanes.Count).Count(i => !done[i]);
            if (holding.Count == 0 && running == 0) return 0;
            var windowNs = (long)(window.TotalMilliseconds * 1_000_000);
            if (holding.Count > 0 && holding.Count == running)
            {
                var stamps = holding.Select(i => FrameTime.Stamp(held[i]!).UnixNs).ToList();
                var spread = stamps.Max() - stamps.Min();
                if (spread <= windowNs && holding.Count <= maxBatch)
                {
                    var id = Interlocked.Increment(ref _sets) - 1;
                    stats.CompleteSet();
                    var n = 0;
                    foreach (var i in holding) { batch[n++] = (lanes[i], held[i]!); held[i] = null; }
                    _pendingSet = (id, n, spread);
                    return n;
                }
                // Too far apart: the oldest goes on alone; its camera could not complete this set.
                var oldest = holding[stamps.IndexOf(stamps.Min())];
                return Alone(lanes, batch, held, oldest);
            }
            if (holding.Count > 0 && Stopwatch.GetElapsedTime(first) >= window)
            {
                // A camera stayed silent for the whole window: the oldest held frame goes on, counted as incomplete.
                var oldest = holding.MinBy(i => FrameTime.Stamp(held[i]!).UnixNs);
                return Alone(lanes, batch, held, oldest);
            }
            var waits = new List<Task>();
            for (var i = 0; i < lanes.Count; i++)
                if (held[i] is null && !done[i]) waits.Add(lanes[i].Frames.WaitToReadAsync().AsTask());
            if (holding.Count > 0) waits.Add(Task.Delay(window - Stopwatch.GetElapsedTime(first) is { Ticks: > 0 } left ? left : TimeSpan.Zero));
            if (waits.Count == 0) continue;
            await Task.WhenAny(waits).ConfigureAwait(false);
        }
    }

    private (long Id, int Size, long SpreadNs)? _pendingSet;
    private long[] _heldAt = [];

    private int Alone(IReadOnlyList<Lane> lanes, (Lane, Frame)[] batch, Frame?[] held, int i)
    {
        stats.IncompleteSet(lanes[i].Name);
        batch[0] = (lanes[i], held[i]!);
        held[i] = null;
        _pendingSet = null;
        return 1;
    }

    private async Task RunBatchAsync(IMtlModel instance, (Lane Lane, Frame Frame)[] batch, FramePacket[] packets, int n, Task after, StageFault fault,
        Channel<int> free, int slot)
    {
        var pre = new double[n];
        var handed = 0;
        try
        {
            for (var i = 0; i < n; i++)
            {
                var t = Stopwatch.GetTimestamp();
                instance.SetInput(i, batch[i].Frame.Image);
                pre[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            }
            var t1 = Stopwatch.GetTimestamp();
            instance.RunBatch(n);
            var t2 = Stopwatch.GetTimestamp();
            stats.Add(n, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            // The batch taken before this one hands on first (it reports its own faults).
            try { await after.ConfigureAwait(false); } catch { }
            for (var i = 0; i < n; i++)
            {
                // Copied into a buffer of the camera's, then post-processed on its worker while the next batch runs.
                var worker = _workers[batch[i].Lane];
                var buffer = await worker.Free.Reader.ReadAsync().ConfigureAwait(false);
                var o = instance.Output(i);
                o.Labels.CopyTo(buffer.Labels);
                o.Depth.CopyTo(buffer.Depth);
                var copy = o.Confidence is { } c ? buffer : buffer with { Confidence = null };
                if (o.Confidence is { } conf) conf.CopyTo(buffer.Confidence!);
                await worker.Queue.Writer.WriteAsync((packets[i], copy, pre[i], t1, t2)).ConfigureAwait(false);
                handed = i + 1;
            }
        }
        catch (Exception e)
        {
            fault.Report("infer", packets[handed].Sequence, e);
            for (var i = handed; i < n; i++) packets[i].Release();
        }
        finally
        {
            Array.Clear(packets, 0, n);
            free.Writer.TryWrite(slot);
        }
    }
}
