using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// Runs the model on the muxer's batches. With a model of several instances (<see cref="IMtlModel.Instances"/>), up to
/// that many batches run at once, each on a free instance; their results reach the cameras' post stages in the order the
/// batches were taken, so every camera's frames stay in order. Each result is copied into a buffer of its camera's
/// <see cref="PostStage"/> before the instance runs again.
/// </summary>
public sealed class ModelRunner(IMtlModel model, int maxBatch, BatchStats stats)
{
    /// <summary>One batch slot per instance: the frames, their packets, the set they form.</summary>
    private sealed class Slot(int index, int maxBatch)
    {
        public int Index { get; } = index;
        public StreamMuxer.Entry[] Batch { get; } = new StreamMuxer.Entry[maxBatch];
        public FramePacket[] Packets { get; } = new FramePacket[maxBatch];
        public double[] PreMs { get; } = new double[maxBatch];
        public int Count { get; set; }
    }

    /// <summary>Until every camera has ended or a fault: batches from <paramref name="muxer"/>, results to <paramref name="posts"/>.</summary>
    public async Task RunAsync(StreamMuxer muxer, IReadOnlyList<PostStage> posts, StageFault fault)
    {
        var instances = Math.Max(1, model.Instances);
        var slots = Enumerable.Range(0, instances).Select(k => new Slot(k, maxBatch)).ToArray();
        var free = Channel.CreateBounded<Slot>(instances);
        foreach (var slot in slots) free.Writer.TryWrite(slot);
        // The last batch taken: the next one hands its results on only after it, so each camera's frames stay in order.
        // Each is awaited exactly once: by the batch after it, or at the end.
        var previous = ValueTask.CompletedTask;
        try
        {
            while (true)
            {
                var slot = await free.Reader.ReadAsync().ConfigureAwait(false);
                var (n, set) = await muxer.NextAsync(slot.Batch).ConfigureAwait(false);
                if (n == 0) break;
                if (fault.IsFaulted)
                {
                    for (var i = 0; i < n; i++) slot.Batch[i].Frame.Dispose();
                    free.Writer.TryWrite(slot);
                    continue;
                }
                // Packets are taken here, in the cameras' order, before the run goes to its instance.
                var t0 = Stopwatch.GetTimestamp();
                for (var i = 0; i < n; i++)
                {
                    var p = posts[slot.Batch[i].Camera].Infer.Packet(slot.Batch[i].Frame);
                    p.InferStartTicks = t0;
                    if (set is { } s) { p.SetId = s.Id; p.SetSize = s.Size; p.SetSpreadNs = s.SpreadNs; }
                    slot.Packets[i] = p;
                }
                slot.Count = n;
                var after = previous;
                // With several instances the batch goes on the thread pool (its first await yields) while this loop takes the next one.
                var instance = instances == 1 ? model : model.Instance(slot.Index);
                previous = RunBatchAsync(instance, slot, posts, after, fault, free, yieldFirst: instances > 1);
            }
            await previous.ConfigureAwait(false);
        }
        catch (Exception e) { fault.Report("infer", -1, e); }
        finally
        {
            // The cameras' post stages finish what they hold, in each camera's order, and then end.
            foreach (var post in posts) post.ModelResults.Writer.TryComplete();
            // Whatever still arrives (the capture stages stop at the next frame after a fault) is released.
            foreach (var input in muxer.Inputs)
            {
                try { await foreach (var frame in input.Frames.ReadAllAsync().ConfigureAwait(false)) frame.Dispose(); }
                catch (ChannelClosedException) { }
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // a batch's state is pooled: no allocation per batch
    private async ValueTask RunBatchAsync(IMtlModel instance, Slot slot, IReadOnlyList<PostStage> posts, ValueTask after, StageFault fault,
        Channel<Slot> free, bool yieldFirst)
    {
        // Task.Yield queues the pooled state machine itself: no closure and no Task, unlike Task.Run.
        if (yieldFirst) await Task.Yield();
        var n = slot.Count;
        var handed = 0;
        try
        {
            for (var i = 0; i < n; i++)
            {
                var t = Stopwatch.GetTimestamp();
                instance.SetInput(i, slot.Batch[i].Frame.Image);
                slot.PreMs[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            }
            var t1 = Stopwatch.GetTimestamp();
            instance.RunBatch(n);
            var t2 = Stopwatch.GetTimestamp();
            stats.Add(n, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            // The batch taken before this one hands on first (it reports its own faults).
            try { await after.ConfigureAwait(false); } catch { }
            for (var i = 0; i < n; i++)
            {
                // Copied into a buffer of the camera's, then post-processed on its stage while the next batch runs.
                var post = posts[slot.Batch[i].Camera];
                var buffer = await post.FreeBuffers.Reader.ReadAsync().ConfigureAwait(false);
                var o = instance.Output(i);
                o.Labels.CopyTo(buffer.Labels);
                o.Depth.CopyTo(buffer.Depth);
                var copy = o.Confidence is not null ? buffer : buffer with { Confidence = null };
                if (o.Confidence is { } conf) conf.CopyTo(buffer.Confidence!);
                await post.ModelResults.Writer.WriteAsync(new PostStage.ModelResult(slot.Packets[i], copy, slot.PreMs[i], t1, t2))
                    .ConfigureAwait(false);
                handed = i + 1;
            }
        }
        catch (Exception e)
        {
            fault.Report("infer", slot.Packets[handed].Sequence, e);
            for (var i = handed; i < n; i++) slot.Packets[i].Release();
        }
        finally
        {
            Array.Clear(slot.Packets, 0, n);
            Array.Clear(slot.Batch, 0, n);
            free.Writer.TryWrite(slot);
        }
    }
}
