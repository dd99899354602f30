using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenCvSharp;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Pipeline.Sinks;

namespace RealtimeMtl.Sinks;

/// <summary>
/// Raw predictions per frame: NNNNNN_labels.png (class index), NNNNNN_depth.png (PNG16, millimetres, 0 = invalid),
/// NNNNNN.json (sequence, timestamps, stage times, size, class names on the first frame).
/// Each file is written to a temporary name and renamed, so an interrupted run leaves only complete files.
/// </summary>
public sealed class RawOutputSink : IFrameSink
{
    private readonly string _dir;
    private readonly IReadOnlyList<string> _classes;
    private readonly Mat _mm = new();

    public RawOutputSink(string dir, IReadOnlyList<string> classes)
    {
        _dir = dir;
        _classes = classes;
        OutputFile.EnsureFolder(dir, "--save-raw");
    }

    public string Name => "raw";
    public bool Lossless => true;
    public long FramesWritten { get; private set; }

    public ValueTask WriteAsync(FramePacket p, CancellationToken cancellationToken)
    {
        var stem = Path.Combine(_dir, p.Sequence.ToString("D6", CultureInfo.InvariantCulture));
        WriteAtomic(stem + "_labels.png", tmp => Cv2.ImWrite(tmp, p.Labels));
        p.Depth.ConvertTo(_mm, MatType.CV_16UC1, 1000.0);
        WriteAtomic(stem + "_depth.png", tmp => Cv2.ImWrite(tmp, _mm));
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
        WriteAtomic(stem + ".json", tmp => { File.WriteAllText(tmp, json); return true; });
        FramesWritten++;
        return ValueTask.CompletedTask;
    }

    private static void WriteAtomic(string path, Func<string, bool> write)
    {
        var tmp = path + ".tmp" + Path.GetExtension(path);
        if (!write(tmp)) throw new IOException($"could not write {path}");
        File.Move(tmp, path, overwrite: true);
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _mm.Dispose();
        return ValueTask.CompletedTask;
    }
}
