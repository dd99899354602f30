using System.Diagnostics;
using System.Threading.Channels;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// Resize into the model's input, run it, post-process the outputs to frame size (the injected
/// <see cref="IPostProcessor"/>) and score against the frame's ground truth.
/// </summary>
public sealed class InferStage(IMtlModel model, IPostProcessor post, PipelineStats stats, IQualityMeter? quality = null)
{
    private readonly FramePacketPool _pool = new();

    /// <summary>Fills the packet's labels, depth and confidence at frame size and its stage times.</summary>
    public void Process(FramePacket p)
    {
        var t0 = Stopwatch.GetTimestamp();
        model.SetInput(p.Frame.Image);
        var t1 = Stopwatch.GetTimestamp();
        model.Run();
        var t2 = Stopwatch.GetTimestamp();
        post.Apply(model, p);
        if (quality is not null && (p.Frame.Labels is not null || p.Frame.Depth is not null)) quality.Score(p);
        var t3 = Stopwatch.GetTimestamp();
        p.PreMs = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
        p.ModelMs = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
        p.PostMs = Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds;
        p.InferEndTicks = t3;
        stats.Pre.Add(p.PreMs);
        stats.Model.Add(p.ModelMs);
        stats.Post.Add(p.PostMs);
        stats.Infer.Add(Stopwatch.GetElapsedTime(t0, t3).TotalMilliseconds);
    }

    /// <summary>A packet for a frame, from the pool (its Mats keep their buffers from earlier frames).</summary>
    public FramePacket Packet(Frame frame) => _pool.Rent(frame);

    /// <summary>Frees the pooled packets' buffers (after the run).</summary>
    public void ClearPool() => _pool.Clear();

    public async Task RunAsync(ChannelReader<Frame> reader, ChannelWriter<FramePacket> writer, StageFault fault)
    {
        try
        {
            await foreach (var frame in reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (fault.IsFaulted) { frame.Dispose(); continue; }
                var packet = Packet(frame);
                packet.InferStartTicks = Stopwatch.GetTimestamp();
                try { Process(packet); }
                catch (Exception e)
                {
                    fault.Report("infer", packet.Sequence, e);
                    packet.Release();
                    continue;
                }
                await writer.WriteAsync(packet).ConfigureAwait(false);
            }
        }
        catch (Exception e) { fault.Report("infer", -1, e); }
        finally
        {
            writer.TryComplete();
            // Whatever still arrives (the capture stage stops at the next frame after a fault) is released.
            try { await foreach (var frame in reader.ReadAllAsync().ConfigureAwait(false)) frame.Dispose(); }
            catch (ChannelClosedException) { }
        }
    }
}
