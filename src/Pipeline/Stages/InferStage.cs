using System.Diagnostics;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// One camera's side of inference: its packet pool, post-processing (the injected <see cref="IPostProcessor"/>),
/// scoring against the frame's ground truth and stage times. The model itself is run by the <see cref="ModelRunner"/>
/// for every camera at once and <see cref="Complete"/> is called on the camera's <see cref="PostStage"/>;
/// <see cref="Process"/> runs the model for one frame (tools, tests).
/// </summary>
public sealed class InferStage(IMtlModel model, IPostProcessor post, PipelineStats stats, IQualityMeter? quality = null)
{
    private readonly FramePacketPool _pool = new();

    public PipelineStats Stats => stats;

    /// <summary>Runs the model on this one frame and fills the packet's labels, depth and confidence at frame size.</summary>
    public void Process(FramePacket p)
    {
        var t0 = Stopwatch.GetTimestamp();
        model.SetInput(0, p.Frame.Image);
        var t1 = Stopwatch.GetTimestamp();
        model.RunBatch(1);
        var t2 = Stopwatch.GetTimestamp();
        Complete(p, model.Output(0), Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, t1, t2);
    }

    /// <summary>
    /// After the model ran (alone or in a batch, from <paramref name="modelStart"/> to <paramref name="modelEnd"/>):
    /// post-processes this frame's <paramref name="outputs"/> into the packet, scores it and records its stage times.
    /// </summary>
    public void Complete(FramePacket p, ModelOutputs outputs, double preMs, long modelStart, long modelEnd)
    {
        post.Apply(outputs, p);
        if (quality is not null && (p.Frame.Labels is not null || p.Frame.Depth is not null)) quality.Score(p);
        var t3 = Stopwatch.GetTimestamp();
        p.PreMs = preMs;
        p.ModelMs = Stopwatch.GetElapsedTime(modelStart, modelEnd).TotalMilliseconds;
        p.PostMs = Stopwatch.GetElapsedTime(modelEnd, t3).TotalMilliseconds;
        p.InferEndTicks = t3;
        stats.Pre.Add(p.PreMs);
        stats.Model.Add(p.ModelMs);
        stats.Post.Add(p.PostMs);
        stats.Infer.Add(Stopwatch.GetElapsedTime(p.InferStartTicks == 0 ? modelStart : p.InferStartTicks, t3).TotalMilliseconds);
    }

    /// <summary>A packet for a frame, from the pool (its Mats keep their buffers from earlier frames).</summary>
    public FramePacket Packet(Frame frame) => _pool.Rent(frame);

    /// <summary>Frees the pooled packets' buffers (after the run).</summary>
    public void ClearPool() => _pool.Clear();
}
