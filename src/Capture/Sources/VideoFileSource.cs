namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// Any file FFmpeg reads. By default frames come as fast as the consumer takes them (nothing is lost);
/// with <c>realtime</c> they are paced at the file's native frame rate.
/// </summary>
public sealed class VideoFileSource : IFrameSource
{
    private const int MaxConsecutiveFailures = 8;
    private readonly VideoCapture _capture;
    private readonly bool _realtime;
    private readonly IEventLog _events;

    public VideoFileSource(string path, bool realtime = false, IEventLog? events = null)
    {
        _events = events ?? TextEventLog.StandardError;
        Path = path;
        _realtime = realtime;
        if (!File.Exists(path))
            throw new SourceException($"video file '{path}' does not exist; check the path (or use --source synthetic for the built-in demo " +
                $"stream).");
        if (new FileInfo(path).Length == 0)
            throw new SourceException($"video file '{path}' is empty; give a video FFmpeg can read.");
        _capture = new VideoCapture(path, VideoCaptureAPIs.FFMPEG);
        if (!_capture.IsOpened())
        {
            _capture.Dispose();
            throw new SourceException($"video file '{path}' could not be decoded (not a video, or a codec FFmpeg lacks); check the file with " +
                $"ffprobe.");
        }
        var fps = _capture.Get(VideoCaptureProperties.Fps);
        NominalFps = fps is > 0 and < 1000 ? fps : null;
        var count = (long)_capture.Get(VideoCaptureProperties.FrameCount);
        FrameCount = count > 0 ? count : null;
        Width = (int)_capture.Get(VideoCaptureProperties.FrameWidth);
        Height = (int)_capture.Get(VideoCaptureProperties.FrameHeight);
        if (Width <= 0 || Height <= 0)
        {
            _capture.Dispose();
            throw new SourceException($"video file '{path}' has no video stream; give a file with video in it.");
        }
    }

    public string Path { get; }
    public int Width { get; }
    public int Height { get; }
    public string Description => $"video file {Path}";
    public bool IsLive => false;
    public double? NominalFps { get; }
    public long? FrameCount { get; }
    public bool TimedByMedia => true;
    /// <summary>The container's duration (frame count over nominal rate, as FFmpeg estimates them), when known.</summary>
    private double? Duration => FrameCount is { } n && NominalFps is { } f ? n / f : null;

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        var period = NominalFps is { } f ? 1.0 / f : 0;
        long sequence = 0, skipped = 0;
        var failures = 0;
        double lastTime = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var image = new Mat();
            bool ok;
            try { ok = _capture.Read(image) && !image.Empty(); }
            catch (OpenCVException) { ok = false; }
            if (!ok)
            {
                image.Dispose();
                // A corrupt frame in the middle: skip it and keep every decodable frame after it.
                if (FrameCount is { } expected && sequence + skipped < expected - 1 && ++failures <= MaxConsecutiveFailures)
                {
                    skipped++;
                    continue;
                }
                if (sequence == 0)
                    throw new SourceException($"video file '{Path}' opened but no frame could be decoded; the file is probably corrupt.");
                // The header's frame count is an estimate (duration x nominal rate): a variable-rate file holds fewer
                // frames than it claims. Decoding that reached the container's end is a normal end, whatever the count.
                var reachedEnd = Duration is not { } d || lastTime + 2 * period >= 0.95 * d;
                if (FrameCount is { } total && sequence < total - 1 && !reachedEnd)
                    _events.Warning($"video file '{Path}' ended after {sequence} of {total} frames, at {lastTime:0.0} of {Duration:0.0} s " +
                        $"(truncated or corrupt); every decodable frame was read.");
                yield break;
            }
            failures = 0;
            // The frame's own presentation time (variable frame rates included); the nominal grid where there is none.
            var pos = _capture.Get(VideoCaptureProperties.PosMsec);
            var time = pos > 0 || sequence == 0 ? pos / 1000.0 : sequence * period;
            if (time < lastTime) time = lastTime;
            lastTime = time;
            if (_realtime && period > 0)
            {
                var due = start + (long)(time * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
            yield return new Frame(sequence, Stopwatch.GetTimestamp(), image)
            {
                NominalFps = NominalFps,
                MediaTimeSeconds = time,
            };
            sequence++;
            if (!_realtime && sequence % 64 == 0) await Task.Yield();
        }
    }

    public ValueTask DisposeAsync()
    {
        _capture.Dispose();
        return ValueTask.CompletedTask;
    }
}
