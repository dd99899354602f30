using OpenCvSharp;
using RealtimeMtl.Pipeline.Imaging;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Inference.PostProcessing;

/// <summary>
/// The engine's post-processing: optional temporal smoothing at model resolution (<c>--smooth</c>), then labels to
/// frame size along the model's confidence (<see cref="LabelUpsampler"/>), depth and confidence bilinear.
/// One instance per camera: the smoother keeps state between frames.
/// </summary>
public sealed class ModelPostProcessor(bool smooth = false) : IPostProcessor
{
    private readonly TemporalSmoother? _smoother = smooth ? new TemporalSmoother() : null;

    /// <summary>Scene cuts the smoother reset on (0 without smoothing).</summary>
    public long SmootherResets => _smoother?.Resets ?? 0;

    public void Apply(ModelOutputs model, FramePacket packet)
    {
        _smoother?.Apply(model.Labels, model.Depth, model.Confidence);
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
