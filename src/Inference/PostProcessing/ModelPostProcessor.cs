using OpenCvSharp;
using RealtimeMtl.Pipeline.Imaging;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Inference.PostProcessing;

/// <summary>
/// The engine's post-processing: optional temporal smoothing at model resolution (<c>--smooth</c>: <see cref="FlowFusion"/>
/// or <see cref="TemporalSmoother"/>), then labels to frame size along the model's confidence
/// (<see cref="LabelUpsampler"/>), depth and confidence bilinear.
/// One instance per camera: the smoother keeps state between frames.
/// </summary>
public sealed class ModelPostProcessor(SmoothMode smooth = SmoothMode.Off) : IPostProcessor
{
    private readonly TemporalSmoother? _hysteresis = smooth == SmoothMode.Hysteresis ? new TemporalSmoother() : null;
    private readonly FlowFusion? _fusion = smooth == SmoothMode.Flow ? new FlowFusion() : null;

    public SmoothMode Smooth => smooth;

    public void Apply(ModelOutputs model, FramePacket packet)
    {
        _hysteresis?.Apply(model.Labels, model.Depth, model.Confidence);
        _fusion?.Apply(packet.Frame.Image, model.Labels, model.Depth, model.Confidence);
        var size = new Size(packet.Frame.Width, packet.Frame.Height);
        LabelUpsampler.Upsample(model.Labels, model.Confidence, size, packet.Labels);
        CvNative.Resize(model.Depth, packet.Depth, size, InterpolationFlags.Linear);
        if (model.Confidence is { } conf)
        {
            packet.Confidence ??= new Mat();
            CvNative.Resize(conf, packet.Confidence, size, InterpolationFlags.Linear);
        }
    }
}
