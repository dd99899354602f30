using OpenCvSharp;
using RealtimeMtl.Capture.Frames;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// A frame on its way through the pipeline: the captured frame, the prediction at frame size, the rendered image and
/// the stage timestamps. Shared by several sinks, so it is reference counted: the last <see cref="Release"/> disposes it.
/// </summary>
public sealed class FramePacket
{
    private static long _live;
    private int _refs = 1;

    public FramePacket(Frame frame)
    {
        Frame = frame;
        Interlocked.Increment(ref _live);
    }

    /// <summary>Packets created and not yet released (each owns 3-6 native Mats): flat in a healthy run, 0 after it.</summary>
    public static long Live => Interlocked.Read(ref _live);

    public Frame Frame { get; }
    public long Sequence => Frame.Sequence;

    /// <summary>Predicted class per pixel at frame size (CV_8UC1), nearest-upsampled.</summary>
    public Mat Labels { get; } = new();

    /// <summary>Predicted depth in metres at frame size (CV_32FC1), bilinear-upsampled.</summary>
    public Mat Depth { get; } = new();

    /// <summary>Max softmax probability at frame size (CV_32FC1), when the model gives it.</summary>
    public Mat? Confidence { get; set; }

    /// <summary>The annotated image the render stage drew, BGR.</summary>
    public Mat? Rendered { get; set; }

    public long CaptureTicks => Frame.TimestampTicks;
    public long InferStartTicks { get; set; }
    public long InferEndTicks { get; set; }
    public long RenderEndTicks { get; set; }
    public double PreMs { get; set; }
    public double ModelMs { get; set; }
    public double PostMs { get; set; }

    public void AddRef() => Interlocked.Increment(ref _refs);

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        Interlocked.Decrement(ref _live);
        Frame.Dispose();
        Labels.Dispose();
        Depth.Dispose();
        Confidence?.Dispose();
        Rendered?.Dispose();
    }
}
