using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenCvSharp;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Sinks;

/// <summary>
/// Raw predictions per frame: STEM_labels.png (class index), STEM_depth.png (PNG16, millimetres, 0 = invalid),
/// STEM.json (sequence, timestamps, stage times, size, class names on the first frame). STEM is named after the input:
/// an image of a folder gives its own name (photo.jpg: photo; a name seen before gets _NNNNNN), a video file its name and
/// the frame number (clip_000042), any other source the frame number (000042).
/// Each file is written to a temporary name and renamed, so an interrupted run leaves only complete files.
/// </summary>
public sealed class RawOutputSink : IFrameSink
{
    private readonly FolderLock _lock;
    private readonly string _dir;
    private readonly IReadOnlyList<string> _classes;
    private readonly Mat _mm = new();

    private readonly string? _prefix;
    private readonly HashSet<string> _stems = [];

    /// <param name="prefix">The video file's name without extension, put before each frame number (null: numbers alone).</param>
    public RawOutputSink(string dir, IReadOnlyList<string> classes, string? prefix = null)
    {
        _dir = dir;
        _classes = classes;
        _prefix = prefix;
        _lock = FolderLock.Take(dir, "--save-raw");
    }

    public string Name => "raw";

    /// <summary>Reads labels and depth, never the drawn picture.</summary>

    public bool UsesPicture => false;
    public bool Lossless => true;
    public long FramesWritten { get; private set; }

    public ValueTask WriteAsync(FramePacket p, CancellationToken cancellationToken)
    {
        var number = p.Sequence.ToString("D6", CultureInfo.InvariantCulture);
        var name = p.Frame.SourceFile is { } file ? Path.GetFileNameWithoutExtension(file) : _prefix is null ? number : $"{_prefix}_{number}";
        if (!_stems.Add(name)) name = $"{name}_{number}";
        var stem = Path.Combine(_dir, name);
        AtomicFile.Write(stem + "_labels.png", Png(p.Labels));
        p.Depth.ConvertTo(_mm, MatType.CV_16UC1, 1000.0);
        AtomicFile.Write(stem + "_depth.png", Png(_mm));
        var json = JsonSerializer.Serialize(new
        {
            sequence = p.Sequence,
            source_file = p.Frame.SourceFile,
            width = p.Frame.Width,
            height = p.Frame.Height,
            capture_ms = p.CaptureTicks * 1000.0 / Stopwatch.Frequency,
            infer_start_ms = p.InferStartTicks * 1000.0 / Stopwatch.Frequency,
            infer_end_ms = p.InferEndTicks * 1000.0 / Stopwatch.Frequency,
            render_end_ms = p.RenderEndTicks * 1000.0 / Stopwatch.Frequency,
            media_time_s = p.Frame.MediaTimeSeconds,
            // The header stamp the gRPC feed and Foxglove give this frame: sensor time where known, else receive time.
            stamp_unix_ns = FrameTime.Stamp(p.Frame).UnixNs,
            pre_ms = p.PreMs, model_ms = p.ModelMs, post_ms = p.PostMs,
            depth_unit = "mm",
            classes = FramesWritten == 0 ? _classes : null,
        });
        AtomicFile.Write(stem + ".json", System.Text.Encoding.UTF8.GetBytes(json));
        FramesWritten++;
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// PNG encoded in memory, then written by .NET: a full disk is one IOException with its cause (the sink fault),
    /// not libpng's own "Write Error" on stderr.
    /// </summary>
    private static byte[] Png(Mat image)
    {
        if (!Cv2.ImEncode(".png", image, out var bytes)) throw new IOException("could not encode a PNG");
        return bytes;
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _mm.Dispose();
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }
}
