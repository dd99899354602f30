using System.Diagnostics;
using OpenCvSharp;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Pipeline.Sinks;

namespace RealtimeMtl.Sinks.Recording;

/// <summary>
/// Records the annotated stream.
///   Codec: H.264 through the ffmpeg program for .mp4/.mkv (browsers play it), OpenCV's mp4v/MJPG as the fallback
///   without ffmpeg (one line says so) or when asked (--record-codec); .avi is MJPG.
///   Safety: frames go to NAME.recording.EXT beside the target (fragmented MP4: a kill loses at most the last second);
///   a clean finish rewrites it as a normal, seekable file and renames it over the target. An existing target is
///   untouched until then, and untouched for good when the run never produces a frame.
///   Timing: the source's nominal rate. Files: every frame once. Live: each frame lands on that rate's time grid by
///   its capture time; an empty slot repeats the previous frame, a frame for a filled slot takes the next one (up to
///   two slots ahead, for jitter) or else is skipped, so the recording lasts as long as the run within a frame or two.
///   Faults: a write failure throws once with the cause (the pipeline reports it and goes on without this sink);
///   what was written stays playable at the target name.
/// </summary>
public sealed class VideoRecorderSink : IFrameSink
{
    private readonly RecorderOptions _o;
    private readonly Action<string>? _log;
    private readonly string _temp;
    private IVideoEncoder? _encoder;
    private Size _size;
    private Mat? _last;
    private long _firstTicks, _nextSlot;
    private bool _failed, _finished;
    /// <summary>How many slots ahead of its capture time a live frame may be written (jitter), before it is skipped.</summary>
    private const int MaxAhead = 2;
    private long _lastTicks;

    public VideoRecorderSink(RecorderOptions options, Action<string>? log = null)
    {
        _o = options with { Fps = options.Fps is > 0 and < 1000 ? options.Fps : 30 };
        _log = log;
        CheckTarget(options.Path);
        _temp = TempPath(options.Path);
    }

    /// <summary>Plain file recording at a file's own rate.</summary>
    public VideoRecorderSink(string path, double? fps) : this(new RecorderOptions { Path = path, Fps = fps ?? 30, Live = fps is null }) { }

    public string Name => "record";
    public bool Lossless => true;
    /// <summary>Processed frames written (each once).</summary>
    public long FramesWritten { get; private set; }
    /// <summary>Grid slots filled by repeating the previous frame (live: a drop, a stall).</summary>
    public long FramesRepeated { get; private set; }
    /// <summary>Frames that arrived for a slot already filled (live source faster than its nominal rate).</summary>
    public long FramesSkipped { get; private set; }
    public long FramesInFile => FramesWritten + FramesRepeated;
    /// <summary>Capture time from the first to the last frame the recorder received (live: what the file's length follows).</summary>
    public double CapturedSeconds => _encoder is null ? 0 : Stopwatch.GetElapsedTime(_firstTicks, _lastTicks).TotalSeconds;
    public double RecordedFps => _o.Fps;
    public string Path => _o.Path;
    public string Codec => _encoder?.Description ?? "-";

    public static string TempPath(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, System.IO.Path.GetFileNameWithoutExtension(full) + ".recording" + System.IO.Path.GetExtension(full));
    }

    /// <summary>Fails early, before any frame, when the target cannot be written; never touches an existing target.</summary>
    public static void CheckTarget(string path)
    {
        var ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".mp4" or ".avi" or ".mkv"))
            throw new ArgumentException($"--record '{path}': use a .mp4 or .mkv (H.264) or .avi (MJPG) file name.");
        OutputFile.CheckWritable(path, "--record", "out.mp4");
    }

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        if (_failed) return ValueTask.CompletedTask;
        var image = packet.Rendered ?? throw new InvalidOperationException("frame was not rendered");
        try
        {
            _encoder ??= Open(image.Size(), packet.CaptureTicks);
            var frame = Fit(image);
            _lastTicks = Math.Max(_lastTicks, packet.CaptureTicks);
            if (!_o.Live)
            {
                _encoder.Write(frame);
                FramesWritten++;
            }
            else
            {
                // Capture times jitter (a late read, then a catch-up): a frame up to MaxAhead slots early takes the
                // next free slot instead of being lost; only a burst beyond that is skipped.
                var slot = (long)Math.Round(Stopwatch.GetElapsedTime(_firstTicks, packet.CaptureTicks).TotalSeconds * _o.Fps);
                if (slot < _nextSlot - MaxAhead) { FramesSkipped++; }
                else
                {
                    for (; _nextSlot < slot && _last is not null; _nextSlot++) { _encoder.Write(_last); FramesRepeated++; }
                    _encoder.Write(frame);
                    FramesWritten++;
                    _nextSlot = Math.Max(slot, _nextSlot) + 1;
                    if (_last is null) _last = new Mat();
                    frame.CopyTo(_last);
                }
            }
            if (!ReferenceEquals(frame, image)) frame.Dispose();
        }
        catch (IOException)
        {
            _failed = true;
            throw;
        }
        return ValueTask.CompletedTask;
    }

    private IVideoEncoder Open(Size size, long firstTicks)
    {
        _size = size;
        _firstTicks = firstTicks;
        var ext = System.IO.Path.GetExtension(_o.Path).ToLowerInvariant();
        var codec = _o.Codec == RecordCodec.Auto ? (ext == ".avi" ? RecordCodec.Mjpg : RecordCodec.H264) : _o.Codec;
        if (ext == ".avi" && codec == RecordCodec.H264) codec = RecordCodec.Mjpg;
        if (codec == RecordCodec.H264)
        {
            if (FfmpegVideoEncoder.Find() is { } ffmpeg)
                return new FfmpegVideoEncoder(ffmpeg, _temp, _o.Fps, size, _o.PreferNvenc && FfmpegVideoEncoder.HasNvenc);
            _log?.Invoke("warning: the ffmpeg program was not found, so the recording is mp4v through OpenCV (browsers do not play it); install ffmpeg for H.264.");
            codec = ext == ".avi" ? RecordCodec.Mjpg : RecordCodec.Mp4v;
        }
        return new OpenCvVideoEncoder(_temp, codec, _o.Fps, size);
    }

    /// <summary>Frames of another size (a stream back at a new resolution) are scaled to the recording's size.</summary>
    private Mat Fit(Mat image)
    {
        if (image.Size() == _size && image.IsContinuous()) return image;
        var scaled = new Mat();
        Cv2.Resize(image, scaled, _size);
        return scaled;
    }

    public ValueTask CompleteAsync()
    {
        if (_finished || _encoder is null) return ValueTask.CompletedTask;
        _finished = true;
        IOException? failure = null;
        try { _encoder.Finish(); }
        catch (IOException e) { failure = e; }
        finally { _encoder.Dispose(); }
        Publish();
        if (failure is not null && !_failed) throw failure;
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The finished (or, after a fault, partial) recording takes the target's name. A fragmented MP4 that finished
    /// cleanly is first rewritten with its index in front; if that fails (a full disk) the fragments are kept.
    /// </summary>
    private void Publish()
    {
        if (!File.Exists(_temp)) return;
        var source = _temp;
        if (!_failed && _encoder is FfmpegVideoEncoder && System.IO.Path.GetExtension(_o.Path).Equals(".mp4", StringComparison.OrdinalIgnoreCase)
            && FfmpegVideoEncoder.Find() is { } ffmpeg)
        {
            var fast = System.IO.Path.ChangeExtension(_temp, ".faststart.mp4");
            if (FfmpegVideoEncoder.Faststart(ffmpeg, _temp, fast)) source = fast;
            else if (File.Exists(fast)) File.Delete(fast);
        }
        File.Move(source, _o.Path, overwrite: true);
        if (source != _temp && File.Exists(_temp)) File.Delete(_temp);
    }

    public ValueTask DisposeAsync()
    {
        if (!_finished && _encoder is not null)
        {
            // Disposed without completing (the run failed to start its pipeline): keep what was written.
            try { _encoder.Finish(); } catch (IOException) { }
            _encoder.Dispose();
            _finished = true;
            Publish();
        }
        _last?.Dispose();
        return ValueTask.CompletedTask;
    }
}
