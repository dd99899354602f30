using OpenCvSharp;
using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>Draws the annotated image of a packet (src/Render implements it).</summary>
public interface IFrameRenderer
{
    /// <summary>Draws into <paramref name="output"/> (created or resized as needed; its buffer is reused frame to frame).</summary>
    void Render(FramePacket packet, Mat output, PipelineStats stats);
}
