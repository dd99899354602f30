using System.Globalization;
using RealtimeMtl.Common.Commands;

namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// One connection to a network stream through the ffmpeg program, which decodes to raw BGR frames on its standard
/// output and reports the video size and rate on its standard error: the stream is opened once, so a sender that
/// serves one client, or the engine itself listening (tcp://0.0.0.0:5000?listen=1), works. (The FFmpeg inside OpenCV's official Linux runtime is
/// built without network protocols, so network URLs go through the system's ffmpeg.)
/// </summary>
internal sealed class FfmpegStreamReader : IDisposable
{
    private static readonly string[] LiveSchemes = ["rtsp", "rtsps", "rtmp", "udp", "tcp", "srt"];
    private static readonly HashSet<Process> Running = [];
    /// <summary>Set when the process exits: no decoder starts after the others were killed (a reconnect racing the exit).</summary>
    private static bool _exiting;
    private readonly Process _process;
    private readonly Stream _stdout;
    private readonly Timer? _watchdog;
    private long _lastData = Stopwatch.GetTimestamp();
    /// <summary>1 while <see cref="ReadFrame"/> waits for bytes: a consumer that holds the grab thread is no stall.</summary>
    private int _reading;

    static FfmpegStreamReader()
    {
        // Every exit path that runs managed code (end of run, error, SIGTERM, a forced second Ctrl+C) takes the
        // decoders with it: no ffmpeg is left reading a stream with PID 1 as its parent.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Process[] all;
            lock (Running)
            {
                _exiting = true;
                all = [.. Running];
            }
            foreach (var p in all) Kill(p);
        };
    }

    private FfmpegStreamReader(Process process, int width, int height, double? fps, TimeSpan? duration, TimeSpan stallAfter)
    {
        _process = process;
        _stdout = process.StandardOutput.BaseStream;
        Width = width;
        Height = height;
        Fps = fps;
        Duration = duration;
        StallAfter = stallAfter;
        // ffmpeg's own timeouts do not fire for every protocol (udp://): the engine notices a silent stream itself.
        _watchdog = new Timer(_ =>
        {
            if (Volatile.Read(ref _reading) == 0 || Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastData)) <= StallAfter) return;
            Stalled = true;
            try { if (!_process.HasExited) _process.Kill(true); } catch (InvalidOperationException) { }
        }, null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    public int Width { get; }
    public int Height { get; }
    public double? Fps { get; }
    /// <summary>The input's duration when ffmpeg knows one (a file served over HTTP), null for a live stream.</summary>
    public TimeSpan? Duration { get; }
    /// <summary>No data for this long counts as a dropped stream.</summary>
    public TimeSpan StallAfter { get; }
    /// <summary>True when the watchdog ended the decoder because nothing arrived for <see cref="StallAfter"/>.</summary>
    public bool Stalled { get; private set; }
    /// <summary>True when ffmpeg ended by itself with success: the input reached its end.</summary>
    public bool EndedCleanly => !Stalled && _process.HasExited && _process.ExitCode == 0;
    public int FrameBytes => Width * Height * 3;

    /// <summary>Live protocols, where low-latency flags apply; http(s) may serve a whole file and is decoded as one.</summary>
    public static bool IsLiveProtocol(string url) => LiveSchemes.Any(s => url.StartsWith(s + "://", StringComparison.OrdinalIgnoreCase));

    private static string TimeoutArgs(string url, TimeSpan timeout)
    {
        var us = ((long)timeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        if (url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase)) return $"-rtsp_transport tcp -timeout {us}";
        // udp ignores -rw_timeout; its own read timeout makes a reader whose engine died exit by itself too.
        if (url.StartsWith("udp", StringComparison.OrdinalIgnoreCase)) return $"-timeout {us}";
        return $"-rw_timeout {us}";
    }

    /// <summary>
    /// Starts decoding and learns the size from ffmpeg's own stream report (one connection: servers that accept a
    /// single client still work); null when the stream cannot be reached or sends no video within the timeout.
    /// </summary>
    public static FfmpegStreamReader? Open(string url, TimeSpan openTimeout, TimeSpan readTimeout, TimeSpan? stallAfter = null, bool paced = false,
        CancellationToken cancellationToken = default, Action<string>? failed = null)
    {
        var ffmpeg = ExternalTools.Find("ffmpeg")
            ?? throw new SourceException("network streams are read through the ffmpeg program, which is missing; install the Debian package " +
                "'ffmpeg'.");
        // Low-latency flags only for live protocols: with -fflags nobuffer ffmpeg 5.1 outputs nothing from an HTTP file.
        var input = IsLiveProtocol(url) ? "-fflags nobuffer -flags low_delay -probesize 65536 -analyzeduration 500000" : "";
        var decoder = Start(ffmpeg, $"-nostdin -hide_banner -v info {input} {(paced ? "-re" : "")} {TimeoutArgs(url, readTimeout)} -i \"{url}\" " +
            $"-an -sn -map 0:v:0 -f rawvideo -pix_fmt bgr24 -", redirectOut: true);
        var found = new TaskCompletionSource<(int W, int H, double? Fps)>(TaskCreationOptions.RunContinuationsAsynchronously);
        double? inputFps = null;
        TimeSpan? duration = null;
        var output = false;
        string? said = null;
        decoder.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { found.TrySetResult((0, 0, null)); return; }
            var line = e.Data;
            if (line.Contains("rror", StringComparison.Ordinal) || line.Contains("nvalid", StringComparison.Ordinal) || line.Contains("failed",
                StringComparison.Ordinal)) said = line.Trim();
            if (!output && DurationPattern.Match(line) is { Success: true } dm)
                duration = TimeSpan.FromHours(int.Parse(dm.Groups[1].Value, CultureInfo.InvariantCulture))
                    + TimeSpan.FromMinutes(int.Parse(dm.Groups[2].Value, CultureInfo.InvariantCulture))
                    + TimeSpan.FromSeconds(double.Parse(dm.Groups[3].Value, CultureInfo.InvariantCulture));
            if (line.StartsWith("Output #0", StringComparison.Ordinal)) output = true;
            if (!line.Contains("Video:", StringComparison.Ordinal)) return;
            if (!output)
            {
                var fm = FpsPattern.Match(line);
                if (fm.Success && double.TryParse(fm.Groups[1].Value, CultureInfo.InvariantCulture, out var f) && f is > 0 and < 1000) inputFps = f;
                return;
            }
            var m = SizePattern.Match(line);
            if (m.Success) found.TrySetResult((int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value,
                CultureInfo.InvariantCulture), inputFps));
        };
        decoder.BeginErrorReadLine();
        // The wait for the first frame ends at once when the run stops (a stream reconnecting must not hold up Ctrl+C).
        bool opened;
        try { opened = found.Task.Wait(openTimeout, cancellationToken) && found.Task.Result.W > 0; }
        catch (OperationCanceledException) { opened = false; }
        if (!opened)
        {
            Kill(decoder);
            if (said is not null) failed?.Invoke(said);
            return null;
        }
        var (w, h, fps) = found.Task.Result;
        var stall = stallAfter ?? TimeSpan.FromSeconds(Math.Max(2.0, 5.0 / (fps ?? 30)));
        return new FfmpegStreamReader(decoder, w, h, fps, duration, stall);
    }

    private static readonly System.Text.RegularExpressions.Regex DurationPattern = new(@"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)");

    private static readonly System.Text.RegularExpressions.Regex SizePattern = new(@"rawvideo.*?, (\d{2,5})x(\d{2,5})");
    private static readonly System.Text.RegularExpressions.Regex FpsPattern = new(@", (\d+(?:\.\d+)?) fps");

    private static Process Start(string exe, string args, bool redirectOut)
    {
        var p = Process.Start(Configure(RealtimeMtl.Common.Commands.ChildProcesses.OwnSession(exe, args),
            redirectOut)) ?? throw new SourceException($"could not start {exe}");
        lock (Running)
        {
            if (!_exiting)
            {
                Running.Add(p);
                return p;
            }
        }
        Kill(p);
        throw new SourceException("the engine is exiting; no stream is opened any more.");
    }

    private static ProcessStartInfo Configure(ProcessStartInfo start, bool redirectOut)
    {
        start.RedirectStandardOutput = redirectOut;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = false;
        start.UseShellExecute = false;
        return start;
    }

    /// <summary>Reads one whole frame into <paramref name="buffer"/>; false when the stream ended or broke.</summary>
    public bool ReadFrame(Span<byte> buffer)
    {
        Interlocked.Exchange(ref _lastData, Stopwatch.GetTimestamp());
        Volatile.Write(ref _reading, 1);
        try { return ReadWhole(buffer); }
        finally { Volatile.Write(ref _reading, 0); }
    }

    private bool ReadWhole(Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            int n;
            try { n = _stdout.Read(buffer[read..]); }
            catch (IOException) { return false; }
            if (n <= 0)
            {
                try { _process.WaitForExit(2000); } catch (InvalidOperationException) { }
                return false;
            }
            Interlocked.Exchange(ref _lastData, Stopwatch.GetTimestamp());
            read += n;
        }
        return true;
    }

    /// <summary>
    /// Kills first, then forgets: an exit that runs meanwhile still finds the process in the list and kills it. Waits
    /// (up to 2 s) until it is gone, so that once a source is disposed no ffmpeg of it is left running.
    /// </summary>
    private static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(true);
                p.WaitForExit(2000);
            }
        }
        catch (InvalidOperationException) { }
        lock (Running) Running.Remove(p);
        p.Dispose();
    }

    public void Dispose()
    {
        _watchdog?.Dispose();
        Kill(_process);
    }
}
