using OpenCvSharp;

namespace RealtimeMtl.Pipeline.Frames;

/// <summary>
/// One captured frame. Owns its Mats: whoever holds the frame disposes it once. A frame from a <see cref="FramePool"/>
/// goes back to it, Mats and all, when disposed.
/// </summary>
public sealed class Frame : IDisposable
{
    private double? _mediaTime;
    private long? _sensorTime;
    private string? _frameId, _sourceFile;
    private CameraIntrinsics? _intrinsics;
    private double? _nominalFps;
    private FramePool? _pool;
    private int _released;

    public Frame(long sequence, long timestampTicks, Mat image)
    {
        Sequence = sequence;
        TimestampTicks = timestampTicks;
        Image = image;
    }

    /// <summary>Zero-based position in the source's stream.</summary>
    public long Sequence { get; private set; }

    /// <summary>Capture time as <see cref="System.Diagnostics.Stopwatch"/> ticks (monotonic, comparable across stages).</summary>
    public long TimestampTicks { get; private set; }

    /// <summary>Media time of the frame within its file or sequence, in seconds, when the source knows it.</summary>
    public double? MediaTimeSeconds { get => _mediaTime; init => _mediaTime = value; }

    /// <summary>
    /// The sensor's own time of the frame as Unix nanoseconds, where the source records one (TUM RGB-D timestamps,
    /// a camera driver's wall-clock timestamp); null when only the engine's receive time is known.
    /// </summary>
    public long? SensorTimeUnixNs { get => _sensorTime; init => _sensorTime = value; }

    /// <summary>The frame id the sensor gave (a ROS 2 camera's header.frame_id); null: the run's own --frame-id.</summary>
    public string? FrameId { get => _frameId; init => _frameId = value; }

    /// <summary>BGR, CV_8UC3.</summary>
    public Mat Image { get; }

    /// <summary>Sensor or ground-truth depth in metres, CV_32FC1; 0 (or non-finite) marks an invalid pixel.</summary>
    public Mat? Depth { get; init; }

    /// <summary>Ground-truth class index per pixel, CV_8UC1; <see cref="Labels.LabelSet.Ignore"/> marks unlabelled pixels.</summary>
    public Mat? Labels { get; init; }

    public CameraIntrinsics? Intrinsics { get => _intrinsics; init => _intrinsics = value; }

    /// <summary>The source's nominal frame rate (file FPS, camera FPS); null when unknown.</summary>
    public double? NominalFps { get => _nominalFps; init => _nominalFps = value; }

    /// <summary>The file this frame was read from, where the source is a set of files (image folder, sequence).</summary>
    public string? SourceFile { get => _sourceFile; init => _sourceFile = value; }

    public int Width => Image.Width;

    /// <summary>The same frame (same Mats, which move to the copy) with another image and intrinsics: for capture-side
    /// transforms. A pooled frame leaves its pool: its Mats may now belong to the copy.</summary>
    public Frame With(Mat image, CameraIntrinsics? intrinsics, Mat? depth = null, Mat? labels = null)
    {
        _pool = null;
        return new(Sequence, TimestampTicks, image)
        {
            MediaTimeSeconds = MediaTimeSeconds, SensorTimeUnixNs = SensorTimeUnixNs, FrameId = FrameId, Depth = depth ?? Depth,
            Labels = labels ?? Labels, Intrinsics = intrinsics, NominalFps = NominalFps, SourceFile = SourceFile,
        };
    }
    public int Height => Image.Height;

    /// <summary>A deep copy (its own Mats) under a new sequence number and capture time: replaying held frames.</summary>
    public Frame Copy(long sequence, long timestampTicks) => new(sequence, timestampTicks, Image.Clone())
    {
        MediaTimeSeconds = MediaTimeSeconds, SensorTimeUnixNs = SensorTimeUnixNs, FrameId = FrameId, Depth = Depth?.Clone(), Labels = Labels?.Clone(),
        Intrinsics = Intrinsics, NominalFps = NominalFps, SourceFile = SourceFile,
    };

    /// <summary>Whether <paramref name="other"/>'s Mats have the same sizes and types as this frame's (so its pixels can
    /// be copied into them).</summary>
    internal bool SameShape(Frame other) => Same(Image, other.Image) && Same(Depth, other.Depth) && Same(Labels, other.Labels);

    private static bool Same(Mat? a, Mat? b) => a is null ? b is null
        : b is not null && a.Width == b.Width && a.Height == b.Height && a.Type() == b.Type();

    /// <summary>A pooled frame handed out again: <paramref name="like"/>'s pixels (same shape) and description, under a new
    /// sequence number and capture time.</summary>
    internal void Refill(Frame like, long sequence, long timestampTicks, FramePool pool)
    {
        Imaging.CvNative.CopyInto(like.Image, Image, new Rect(0, 0, Image.Width, Image.Height));
        if (like.Depth is { } d) Imaging.CvNative.CopyInto(d, Depth!, new Rect(0, 0, d.Width, d.Height));
        if (like.Labels is { } l) Imaging.CvNative.CopyInto(l, Labels!, new Rect(0, 0, l.Width, l.Height));
        Sequence = sequence; TimestampTicks = timestampTicks;
        _mediaTime = like._mediaTime; _sensorTime = like._sensorTime; _frameId = like._frameId; _sourceFile = like._sourceFile;
        _intrinsics = like._intrinsics; _nominalFps = like._nominalFps;
        _pool = pool;
        Volatile.Write(ref _released, 0);
    }

    /// <summary>Disposes the Mats, whatever the pool.</summary>
    internal void DisposeMats()
    {
        Image.Dispose();
        Depth?.Dispose();
        Labels?.Dispose();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        if (_pool is { } pool) pool.Return(this);
        else DisposeMats();
    }
}
