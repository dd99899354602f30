using System.Diagnostics;
using OpenCvSharp;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

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
///   what was written stays playable at the target name. An empty or unplayable result never replaces an existing
///   target. Two runs recording to one target: the second is refused at start (an exclusive lock on the temporary file).
///   Sizes: H.264 needs even sizes (odd frames are padded by one black row or column, said once) and at most
///   <see cref="MaxH264Width"/>x<see cref="MaxH264Height"/> (larger frames are scaled down, said once).
/// </summary>
public sealed class VideoRecorderSink : IFrameSink
{
    private readonly RecorderOptions _o;
    private readonly IEventLog? _log;
    private readonly string _temp;
    private IVideoEncoder? _encoder;
    private Size _size;
    private Mat? _last;
    private long _firstTicks, _nextSlot;
    private bool _failed, _finished;
    /// <summary>How many slots ahead of its capture time a live frame may be written (jitter), before it is skipped.</summary>
    private const int MaxAhead = 2;
    private long _lastTicks;
    private long _slotOrigin;
    private Size _frameSize;
    private long _rescaled;

    /// <summary>Frames of another size than the first, scaled to the recording's size (a stream back at a new resolution).</summary>
    public long FramesRescaled => Interlocked.Read(ref _rescaled);
    private readonly FileStream _lock;
    /// <summary>H.264 level 6.2's largest frame (8192x4320 = 139,264 macroblocks), within libx264's limits.</summary>
    public const int MaxH264Width = 8192, MaxH264Height = 4320;

    public VideoRecorderSink(RecorderOptions options, IEventLog? log = null)
    {
        _o = options with { Fps = options.Fps is > 0 and < 1000 ? options.Fps : 30 };
        _log = log;
        CheckTarget(options.Path);
        _temp = TempPath(options.Path);
        _lock = Lock(_temp, options.Path);
        _folder = PathIdentity.Id(System.IO.Path.GetDirectoryName(_temp)!);
    }

    /// <summary>The recording's folder as the run found it: the final rename goes there or nowhere.</summary>
    private readonly (ulong Device, ulong Inode)? _folder;

    /// <summary>Where the recording was left when its folder was replaced during the run (null: at its target).</summary>
    public string? KeptElsewhere { get; private set; }

    /// <summary>
    /// An exclusive lock on the temporary file (flock, released by the kernel when the process dies): a second run
    /// recording to the same target is refused at start instead of interleaving frames into one file.
    /// </summary>
    private static FileStream Lock(string temp, string target)
    {
        try { return new FileStream(temp, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException)
        {
            throw new ArgumentException($"--record '{target}': another run is recording to it now ({System.IO.Path.GetFileName(temp)} is locked); " +
                $"wait for it to finish or choose another file.");
        }
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
    public long FramesInFile => Kept ? FramesWritten + FramesRepeated : 0;
    /// <summary>False when the run produced nothing playable and the target (if any) was left as it was.</summary>
    public bool Kept { get; private set; } = true;
    /// <summary>Capture time from the first to the last frame the recorder received (live: what the file's length follows).</summary>
    public double CapturedSeconds => _encoder is null ? 0 : Stopwatch.GetElapsedTime(_firstTicks, _lastTicks).TotalSeconds;
    public double RecordedFps => _o.Fps;
    public string Path => KeptElsewhere ?? _o.Path;
    public string Codec => _encoder?.Description ?? "-";

    public static string TempPath(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, System.IO.Path.GetFileNameWithoutExtension(full) + ".recording"
            + System.IO.Path.GetExtension(full));
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
                if (_o.FollowMediaTime && packet.Frame.MediaTimeSeconds is { } t)
                {
                    // Variable frame rate: a gap of two or more slots repeats the previous frame; jitter does not.
                    var slot = (long)Math.Round(t * _o.Fps);
                    if (FramesWritten == 0) _slotOrigin = slot;
                    slot -= _slotOrigin;
                    if (slot >= _nextSlot + 2 && _last is not null)
                        for (; _nextSlot < slot; _nextSlot++) { _encoder.Write(_last); FramesRepeated++; }
                    _last ??= new Mat();
                    frame.CopyTo(_last);
                }
                _encoder.Write(frame);
                FramesWritten++;
                _nextSlot++;
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
        _frameSize = size;
        _firstTicks = firstTicks;
        var ext = System.IO.Path.GetExtension(_o.Path).ToLowerInvariant();
        var codec = _o.Codec == RecordCodec.Auto ? (ext == ".avi" ? RecordCodec.Mjpg : RecordCodec.H264) : _o.Codec;
        if (ext == ".avi" && codec == RecordCodec.H264) codec = RecordCodec.Mjpg;
        if (codec == RecordCodec.H264)
        {
            if (FfmpegVideoEncoder.Find() is { } ffmpeg)
            {
                _size = H264Size(size, _log);
                // ffmpeg writes into the file this run opened and locked (its /proc name), whatever happens to the folder.
                return new FfmpegVideoEncoder(ffmpeg, PathIdentity.PinnedName(_lock.SafeFileHandle) ?? _temp, _o.Fps, _size,
                    _o.PreferNvenc && FfmpegVideoEncoder.HasNvenc,
                    matroska: ext == ".mkv");
            }
            _log?.Warning("the ffmpeg program was not found, so the recording is mp4v through OpenCV (browsers do not play it); install ffmpeg for " +
                "H.264.");
            codec = ext == ".avi" ? RecordCodec.Mjpg : RecordCodec.Mp4v;
        }
        // OpenCV's MJPG and mp4v writers would drop an odd last row or column without a word: pad it, and say so.
        _size = EvenSize(size, codec == RecordCodec.Mjpg ? "MJPG" : "mp4v", _log);
        return new OpenCvVideoEncoder(_temp, codec, _o.Fps, _size);
    }

    /// <summary>Odd sizes padded to even with one black row or column (right/bottom), said once.</summary>
    private static Size EvenSize(Size frame, string codec, IEventLog? log)
    {
        var padded = new Size(frame.Width + (frame.Width & 1), frame.Height + (frame.Height & 1));
        if (padded != frame)
            log?.Warning($"{codec} needs even frame sizes, so the recording pads {frame.Width}x{frame.Height} frames with black to "
                + $"{padded.Width}x{padded.Height} (right/bottom).");
        return padded;
    }

    /// <summary>
    /// The size H.264 is recorded at: frames larger than level 6.2 allows are scaled down (aspect kept), and odd
    /// sizes get one black row or column (libx264 needs even sizes). Says so once when it changes the size.
    /// </summary>
    public static Size H264Size(Size frame, IEventLog? log)
    {
        var (w, h) = (frame.Width, frame.Height);
        if (w > MaxH264Width || h > MaxH264Height)
        {
            var scale = Math.Min((double)MaxH264Width / w, (double)MaxH264Height / h);
            (w, h) = (Math.Max(1, (int)(w * scale)), Math.Max(1, (int)(h * scale)));
            log?.Warning($"{frame.Width}x{frame.Height} frames are larger than H.264 allows ({MaxH264Width}x{MaxH264Height}); the recording is " +
                $"scaled down to {w}x{h}.");
        }
        return EvenSize(new Size(w, h), "H.264", log);
    }

    /// <summary>
    /// Frames of the first frame's size are padded (odd sizes) or scaled (too large) to the recording's size; frames
    /// of another size (a stream back at a new resolution) are scaled to it.
    /// </summary>
    private Mat Fit(Mat image)
    {
        if (image.Size() == _size && image.IsContinuous()) return image;
        var fitted = new Mat();
        var pad = new Size(_size.Width - _frameSize.Width, _size.Height - _frameSize.Height);
        if (image.Size() == _frameSize && pad.Width is 0 or 1 && pad.Height is 0 or 1)
            Cv2.CopyMakeBorder(image, fitted, 0, pad.Height, 0, pad.Width, BorderTypes.Constant, Scalar.Black);
        else
        {
            if (image.Size() != _frameSize) Interlocked.Increment(ref _rescaled);
            Cv2.Resize(image, fitted, _size);
        }
        return fitted;
    }

    public ValueTask CompleteAsync()
    {
        if (_finished || _encoder is null) return ValueTask.CompletedTask;
        _finished = true;
        IOException? failure = null;
        try
        {
            FillOutageTail();
            _encoder.Finish();
        }
        catch (IOException e) { failure = e; }
        finally { _encoder.Dispose(); }
        Publish(faulted: failure is not null);
        if (failure is not null && !_failed) throw failure;
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A live run that ends in an outage (a stream down until the give-up) repeats the last frame up to the end, so
    /// that the recording lasts as long as the run, as it does for an outage the stream comes back from. Gaps under
    /// a second (the pipeline draining) are left alone.
    /// </summary>
    private void FillOutageTail()
    {
        if (!_o.Live || _failed || _last is null || _encoder is null) return;
        var now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_lastTicks, now) < TimeSpan.FromSeconds(1)) return;
        var end = (long)Math.Round(Stopwatch.GetElapsedTime(_firstTicks, now).TotalSeconds * _o.Fps);
        for (; _nextSlot < end; _nextSlot++) { _encoder.Write(_last); FramesRepeated++; }
        _lastTicks = now;
    }

    /// <summary>
    /// The finished (or, after a fault, partial) recording takes the target's name. A fragmented MP4 that finished
    /// cleanly is first rewritten with its index in front; if that fails (a full disk) the fragments are kept.
    /// </summary>
    private void Publish(bool faulted)
    {
        // The folder moved, or was swapped for a link, while the run wrote: the recording stays where it really is
        // (found through the open file), the target is not touched, and the summary names the real place.
        if (_folder is { } before && PathIdentity.Id(System.IO.Path.GetDirectoryName(_temp)!) != before)
        {
            var real = PathIdentity.WhereOpen(_lock.SafeFileHandle) ?? "(unknown: the folder is gone)";
            KeptElsewhere = real;
            _log?.Warning($"the folder of --record '{_o.Path}' was moved or replaced during the run; the recording was left at '{real}' and "
                + $"'{_o.Path}' was not touched.");
            return;
        }
        if (!File.Exists(_temp)) return;
        if (new FileInfo(_temp).Length == 0 || ((_failed || faulted) && !Playable(_temp)))
        {
            // Nothing playable came out: an existing target stays as it was, and the summary says nothing was kept.
            Kept = false;
            FramesWritten = FramesRepeated = 0;
            File.Delete(_temp);
            if (!(_failed || faulted)) _log?.Warning($"the recording produced no playable video; " +
                $"{(File.Exists(_o.Path) ? $"'{_o.Path}' was left as it was" : "no file was written")}.");
            return;
        }
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

    /// <summary>True when ffprobe decodes at least one video frame of the file (true when ffprobe is missing: no evidence against it).</summary>
    private static bool Playable(string path)
    {
        if (RealtimeMtl.Common.Commands.ExternalTools.Find("ffprobe") is not { } ffprobe) return true;
        try
        {
            var psi = new ProcessStartInfo(ffprobe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of",
                "csv=p=0", path })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var text = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            if (!p.WaitForExit(30_000)) { p.Kill(); return true; }
            return long.TryParse(text.Trim().Split('\n')[0].Trim(','), out var n) && n > 0;
        }
        catch (System.ComponentModel.Win32Exception) { return true; }
    }

    public ValueTask DisposeAsync()
    {
        if (!_finished && _encoder is not null)
        {
            // Disposed without completing (the run failed to start its pipeline): keep what was written.
            var faulted = false;
            try { _encoder.Finish(); } catch (IOException) { faulted = true; }
            _encoder.Dispose();
            _finished = true;
            Publish(faulted);
        }
        _last?.Dispose();
        _lock.Dispose();
        // The lock kept the temporary name; a recording that was never opened leaves nothing behind.
        if (_encoder is null && File.Exists(_temp) && new FileInfo(_temp).Length == 0) File.Delete(_temp);
        return ValueTask.CompletedTask;
    }
}
