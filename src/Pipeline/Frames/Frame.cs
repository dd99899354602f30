using OpenCvSharp;

namespace RealtimeMtl.Pipeline.Frames;

/// <summary>
/// One captured frame. Owns its Mats: whoever holds the frame disposes it once.
/// </summary>
public sealed class Frame : IDisposable
{
    public Frame(long sequence, long timestampTicks, Mat image)
    {
        Sequence = sequence;
        TimestampTicks = timestampTicks;
        Image = image;
    }

    /// <summary>Zero-based position in the source's stream.</summary>
    public long Sequence { get; }

    /// <summary>Capture time as <see cref="System.Diagnostics.Stopwatch"/> ticks (monotonic, comparable across stages).</summary>
    public long TimestampTicks { get; }

    /// <summary>Media time of the frame within its file or sequence, in seconds, when the source knows it.</summary>
    public double? MediaTimeSeconds { get; init; }

    /// <summary>
    /// The sensor's own time of the frame as Unix nanoseconds, where the source records one (TUM RGB-D timestamps,
    /// a camera driver's wall-clock timestamp); null when only the engine's receive time is known.
    /// </summary>
    public long? SensorTimeUnixNs { get; init; }

    /// <summary>The frame id the sensor gave (a ROS 2 camera's header.frame_id); null: the run's own --frame-id.</summary>
    public string? FrameId { get; init; }

    /// <summary>BGR, CV_8UC3.</summary>
    public Mat Image { get; }

    /// <summary>Sensor or ground-truth depth in metres, CV_32FC1; 0 (or non-finite) marks an invalid pixel.</summary>
    public Mat? Depth { get; init; }

    /// <summary>Ground-truth class index per pixel, CV_8UC1; <see cref="Labels.LabelSet.Ignore"/> marks unlabelled pixels.</summary>
    public Mat? Labels { get; init; }

    public CameraIntrinsics? Intrinsics { get; init; }

    /// <summary>The source's nominal frame rate (file FPS, camera FPS); null when unknown.</summary>
    public double? NominalFps { get; init; }

    /// <summary>The file this frame was read from, where the source is a set of files (image folder, sequence).</summary>
    public string? SourceFile { get; init; }

    public int Width => Image.Width;

    /// <summary>The same frame (same Mats, which move to the copy) with another image and intrinsics: for capture-side transforms.</summary>
    public Frame With(Mat image, CameraIntrinsics? intrinsics, Mat? depth = null, Mat? labels = null) => new(Sequence, TimestampTicks, image)
    {
        MediaTimeSeconds = MediaTimeSeconds, SensorTimeUnixNs = SensorTimeUnixNs, FrameId = FrameId, Depth = depth ?? Depth,
        Labels = labels ?? Labels,
        Intrinsics = intrinsics, NominalFps = NominalFps, SourceFile = SourceFile,
    };
    public int Height => Image.Height;

    /// <summary>A deep copy (its own Mats) under a new sequence number and capture time: replaying held frames.</summary>
    public Frame Copy(long sequence, long timestampTicks) => new(sequence, timestampTicks, Image.Clone())
    {
        MediaTimeSeconds = MediaTimeSeconds, SensorTimeUnixNs = SensorTimeUnixNs, FrameId = FrameId, Depth = Depth?.Clone(), Labels = Labels?.Clone(),
        Intrinsics = Intrinsics, NominalFps = NominalFps, SourceFile = SourceFile,
    };

    public void Dispose()
    {
        Image.Dispose();
        Depth?.Dispose();
        Labels?.Dispose();
    }
}
