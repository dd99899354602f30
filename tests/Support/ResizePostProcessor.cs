using OpenCvSharp;
using RealtimeMtl.Pipeline.Imaging;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Tests.Support;

/// <summary>
/// The plainest post-processing for tests of the core (which does not reference Inference): labels nearest,
/// depth bilinear, to frame size. Counts its calls.
/// </summary>
public sealed class ResizePostProcessor : IPostProcessor
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public void Apply(ModelOutputs model, FramePacket packet)
    {
        Interlocked.Increment(ref _calls);
        var size = new Size(packet.Frame.Width, packet.Frame.Height);
        CvNative.Resize(model.Labels, packet.Labels, size, InterpolationFlags.Nearest);
        CvNative.Resize(model.Depth, packet.Depth, size, InterpolationFlags.Linear);
    }
}
