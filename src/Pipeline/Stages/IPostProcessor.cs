using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// The model's post-processing, injected into the infer stage: turns the outputs the model just produced (at model
/// resolution) into the packet's labels, depth and confidence at frame size. The engine's implementation
/// (upsampling along confidence, optional temporal smoothing) lives with the model, in Inference.
/// </summary>
public interface IPostProcessor
{
    /// <summary>Fills <see cref="FramePacket.Labels"/>, <see cref="FramePacket.Depth"/> and, where the model has one, <see
    /// cref="FramePacket.Confidence"/> from one frame's outputs.</summary>
    void Apply(ModelOutputs outputs, FramePacket packet);
}
