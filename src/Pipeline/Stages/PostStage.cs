using System.Threading.Channels;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// One camera's post-processing stage, on its own task: takes the camera's model results in the camera's order,
/// post-processes each into its packet (labels and depth to frame size, smoothing, scoring; <see cref="InferStage.Complete"/>)
/// and hands the packet to the camera's render channel. The model runner copies each result into one of the camera's
/// <see cref="Buffers"/> output buffers, so the next model run cannot overwrite it; a camera whose posts lag holds the
/// runner (no frame is lost).
/// </summary>
public sealed class PostStage : IDisposable
{
    public const int Buffers = 3;

    /// <summary>A model result for one frame: its packet, its outputs (a buffer of this stage's), and its times.</summary>
    public readonly record struct ModelResult(FramePacket Packet, ModelOutputs Outputs, double PreMs, long ModelStart, long ModelEnd);

    private readonly InferStage _infer;
    private readonly List<ModelOutputs> _all = [];

    public PostStage(InferStage infer)
    {
        _infer = infer;
        for (var i = 0; i < Buffers; i++)
        {
            var b = new ModelOutputs(new OpenCvSharp.Mat(), new OpenCvSharp.Mat(), new OpenCvSharp.Mat());
            _all.Add(b);
            FreeBuffers.Writer.TryWrite(b);
        }
    }

    /// <summary>The camera's bookkeeping: its packet pool and stage times.</summary>
    public InferStage Infer => _infer;

    /// <summary>Model results in, in the camera's order.</summary>
    public Channel<ModelResult> ModelResults { get; } = Channel.CreateBounded<ModelResult>(new BoundedChannelOptions(Buffers)
    {
        SingleReader = true, SingleWriter = true
    });

    /// <summary>Output buffers free for the next result.</summary>
    public Channel<ModelOutputs> FreeBuffers { get; } = Channel.CreateUnbounded<ModelOutputs>();

    public async Task RunAsync(ChannelWriter<FramePacket> inferred, StageFault fault)
    {
        try
        {
            await foreach (var (packet, outputs, pre, t1, t2) in ModelResults.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                // Frames the model finished before a fault still reach their sinks.
                var handed = false;
                try
                {
                    _infer.Complete(packet, outputs, pre, t1, t2);
                    FreeBuffers.Writer.TryWrite(outputs);
                    await inferred.WriteAsync(packet).ConfigureAwait(false);
                    handed = true;
                }
                catch (Exception e)
                {
                    FreeBuffers.Writer.TryWrite(outputs);
                    fault.Report("infer", packet.Sequence, e);
                }
                if (!handed) packet.Release();
            }
        }
        finally
        {
            inferred.TryComplete();
        }
    }

    public void Dispose()
    {
        foreach (var b in _all) { b.Labels.Dispose(); b.Depth.Dispose(); b.Confidence?.Dispose(); }
    }
}
