using System.Threading.Channels;

namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// A network stream (rtsp, rtmp, http(s), udp, tcp, srt) decoded by the ffmpeg program. A grab thread keeps only
/// the newest frame, so frames are fresh however slow the consumer. When the stream drops, or sends nothing for
/// the reader's stall time (2 s, or 5 frame intervals of a slower stream), it reconnects with exponential backoff,
/// reports the outage, and goes on; a reconnect that yields no frame still counts as down, and it gives up after
/// <see cref="NetworkStreamOptions.GiveUpAfter"/> of being down.
/// An http(s) URL whose duration ffmpeg knows is a file served over HTTP: read like a file (no frame dropped, the
/// end of the file is the end of the run, paced only with --realtime).
/// </summary>
public sealed class NetworkStreamSource : IFrameSource
{
    private static readonly string[] Schemes = ["rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"];

    private readonly NetworkStreamOptions _options;
    private readonly IEventLog _events;
    private readonly Channel<Frame> _latest;
    private readonly CancellationTokenSource _stop = new();
    private FfmpegStreamReader? _capture;
    private Thread? _grabber;
    private Exception? _fault;

    public NetworkStreamSource(string url, NetworkStreamOptions? options = null, IEventLog? events = null)
    {
        _options = options ?? new NetworkStreamOptions();
        _events = events ?? TextEventLog.StandardError;
        Url = url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !Schemes.Contains(uri.Scheme) || string.IsNullOrEmpty(uri.Host))
            throw new SourceException($"stream URL '{url}' is malformed; write it like rtsp://host:554/path, http://host/stream.mjpg or " +
                $"udp://127.0.0.1:5000.");
        _capture = Open() ?? throw new SourceException(_openFailure is { } said
            ? $"stream {url} could not be read: ffmpeg says \"{said}\"; the server answered, so check that it serves video ffmpeg can read."
            : $"stream {url} could not be opened within {_options.OpenTimeout.TotalSeconds:0.#} s (refused, unreachable, or sending nothing); check "
                + $"that the stream is running and the URL is right.");
        NominalFps = _capture.Fps;
        IsFile = !FfmpegStreamReader.IsLiveProtocol(url) && (_capture.Duration is not null || NamesAFile(uri));
        _latest = IsFile
            ? Channel.CreateBounded<Frame>(new BoundedChannelOptions(4)
            {
                FullMode = BoundedChannelFullMode.Wait, SingleReader = true,
                SingleWriter = true
            })
            : Channel.CreateBounded<Frame>(new BoundedChannelOptions(1)
            {
                FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true,
            }, dropped => { dropped.Dispose(); Interlocked.Increment(ref _droppedAtSource); });
    }

    /// <summary>A file served over HTTP (its duration is known, or its path names a video file): every frame is read, its end ends the run.</summary>
    public bool IsFile { get; }

    private static readonly string[] FileExtensions = [".ts", ".m2ts", ".mts", ".mp4", ".m4v", ".mkv", ".webm", ".avi", ".mov", ".flv", ".mpg",
        ".mpeg"];

    /// <summary>An http(s) path ending in a video file's extension (an MPEG-TS has no duration ffmpeg can read up front).</summary>
    private static bool NamesAFile(Uri uri) =>
        uri.Scheme is "http" or "https" && FileExtensions.Contains(Path.GetExtension(uri.AbsolutePath).ToLowerInvariant());

    private long _droppedAtSource;

    public string Url { get; }
    public string Description => IsFile ? $"video over HTTP {Url}" : $"stream {Url}";
    public bool IsLive => !IsFile;
    public double? NominalFps { get; }
    public long? FrameCount => null;

    /// <summary>Frames the grab thread replaced before anyone read them (the stream is faster than the consumer).</summary>
    public long DroppedAtSource => Interlocked.Read(ref _droppedAtSource);
    public long DroppedInternally => DroppedAtSource;

    /// <summary>Outages seen so far (each ended by a successful reconnect).</summary>
    public int Outages { get; private set; }

    private FfmpegStreamReader? Open() =>
        FfmpegStreamReader.Open(Url, _options.OpenTimeout, _options.ReadTimeout, _options.StallAfter,
            paced: _options.Realtime && !FfmpegStreamReader.IsLiveProtocol(Url),
            cancellationToken: _stop.Token, failed: why => _openFailure = why);

    /// <summary>What ffmpeg said when the last open failed with the server answering (not a network fault).</summary>
    private string? _openFailure;

    /// <summary>When the stream went down (null while frames flow): a reconnect that yields no frame stays down.</summary>
    private long? _downSince;
    private int _reconnectAttempts;

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        _grabber ??= StartGrabber();
        // The run stopping stops the grab thread too: a reconnect's backoff and its open wait end at once.
        using var stopping = cancellationToken.Register(() => { try { _stop.Cancel(); } catch (ObjectDisposedException) { } });
        while (true)
        {
            Frame frame;
            try
            {
                if (!await _latest.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) break;
                if (!_latest.Reader.TryRead(out var f)) continue;
                frame = f;
            }
            catch (OperationCanceledException) { yield break; }
            yield return frame;
        }
        if (_fault is not null) throw _fault;
    }

    private Thread StartGrabber()
    {
        var thread = new Thread(GrabLoop) { IsBackground = true, Name = "rtmtl-stream-grab" };
        thread.Start();
        return thread;
    }

    private void GrabLoop()
    {
        long sequence = 0;
        var token = _stop.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var reader = _capture!;
                var image = new Mat(reader.Height, reader.Width, MatType.CV_8UC3);
                bool ok;
                unsafe { ok = reader.ReadFrame(new Span<byte>((void*)image.Data, reader.FrameBytes)); }
                if (ok)
                {
                    if (_downSince is { } since)
                    {
                        Outages++;
                        _events.Warning($"stream {Url} back after {Stopwatch.GetElapsedTime(since).TotalSeconds:0.0} s outage " +
                            $"({_reconnectAttempts} attempts), {reader.Width}x{reader.Height}");
                        _downSince = null;
                    }
                    var frame = new Frame(sequence++, Stopwatch.GetTimestamp(), image) { NominalFps = NominalFps };
                    if (IsFile) _latest.Writer.WriteAsync(frame, token).AsTask().GetAwaiter().GetResult();
                    else _latest.Writer.TryWrite(frame);
                    continue;
                }
                image.Dispose();
                if (token.IsCancellationRequested) break;
                if (IsFile)
                {
                    // A file ends: that is the end of the run. A file that breaks off is a source fault, not an outage to wait out.
                    if (reader.EndedCleanly) break;
                    throw new SourceException($"video {Url} broke off after frame " +
                        $"{sequence}{(reader.Stalled ? $" (no data for {reader.StallAfter.TotalSeconds:0.#} s)" : "")}; check the server and start " +
                            $"again.");
                }
                // An HTTP stream that ends (the server closed it at its end, not a dropped connection) is a file that ended:
                // reading it again from the start would loop it forever.
                if (Url.StartsWith("http", StringComparison.OrdinalIgnoreCase) && reader.EndedCleanly)
                {
                    _events.Warning($"stream {Url} ended after frame {sequence} (the server closed it at its end); that is the end of the input");
                    break;
                }
                Reconnect(sequence, reader.Stalled ? $"stalled (no frame for {reader.StallAfter.TotalSeconds:0.#} s)" : "dropped", token);
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { } // disposed while reconnecting: the run is over
        catch (SourceException e) { _fault = e; }
        finally { _latest.Writer.TryComplete(); }
    }

    private void Reconnect(long sequence, string what, CancellationToken token)
    {
        // Down since the first failure: a reconnect that opened but gave no frame does not restart the clock.
        var first = _downSince is null;
        var lostAt = _downSince ??= Stopwatch.GetTimestamp();
        if (first)
        {
            _reconnectAttempts = 0;
            _events.Warning($"stream {Url} {what} after frame {sequence}; reconnecting with backoff");
        }
        _capture?.Dispose();
        _capture = null;
        var delay = _options.InitialBackoff;
        while (true)
        {
            _reconnectAttempts++;
            token.ThrowIfCancellationRequested();
            if (Stopwatch.GetElapsedTime(lostAt) > _options.GiveUpAfter)
                throw new SourceException($"stream {Url} has been down for {_options.GiveUpAfter.TotalSeconds:0} s and did not come back; check " +
                    $"the stream and start again.");
            token.WaitHandle.WaitOne(delay);
            _capture = Open();
            // "Back" is said when a frame arrives (GrabLoop), not when a connection opens.
            if (_capture is not null) return;
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxBackoff.Ticks));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_grabber is not null) await Task.Run(() => _grabber.Join(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        while (_latest.Reader.TryRead(out var f)) f.Dispose();
        _capture?.Dispose();
        _stop.Dispose();
    }
}

public sealed record NetworkStreamOptions
{
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(4);
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>No data for this long is an outage (null: 2 s, or 5 frame intervals of a stream slower than 2.5 FPS).</summary>
    public TimeSpan? StallAfter { get; init; }
    /// <summary>Pace a file served over HTTP at its own rate (--realtime); live streams are paced by their sender.</summary>
    public bool Realtime { get; init; }
}
