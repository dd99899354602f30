using System.Diagnostics;
using System.Globalization;

namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// One connection to a network stream through the ffmpeg program: ffprobe finds the video size and rate, then
/// ffmpeg decodes to raw BGR frames on its standard output. (The FFmpeg inside OpenCV's official Linux runtime is
/// built without network protocols, so network URLs go through the system's ffmpeg.)
/// </summary>
internal sealed class FfmpegStreamReader : IDisposable
{
    private readonly Process _process;
    private readonly Stream _stdout;

    private FfmpegStreamReader(Process process, int width, int height, double? fps)
    {
        _process = process;
        _stdout = process.StandardOutput.BaseStream;
        Width = width;
        Height = height;
        Fps = fps;
    }

    public int Width { get; }
    public int Height { get; }
    public double? Fps { get; }
    public int FrameBytes => Width * Height * 3;

    private static string TimeoutArgs(string url, TimeSpan timeout)
    {
        var us = ((long)timeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        return url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase) ? $"-rtsp_transport tcp -timeout {us}" : $"-rw_timeout {us}";
    }

    /// <summary>
    /// Starts decoding and learns the size from ffmpeg's own stream report (one connection: servers that accept a
    /// single client still work); null when the stream cannot be reached or sends no video within the timeout.
    /// </summary>
    public static FfmpegStreamReader? Open(string url, TimeSpan openTimeout, TimeSpan readTimeout)
    {
        var ffmpeg = ExternalTools.Find("ffmpeg") ?? throw new SourceException("network streams are read through the ffmpeg program, which is missing; install the Debian package 'ffmpeg'.");
        var decoder = Start(ffmpeg, $"-nostdin -hide_banner -v info -fflags nobuffer -flags low_delay -probesize 65536 -analyzeduration 500000 {TimeoutArgs(url, readTimeout)} -i \"{url}\" -an -sn -map 0:v:0 -f rawvideo -pix_fmt bgr24 -", redirectOut: true);
        var found = new TaskCompletionSource<(int W, int H, double? Fps)>(TaskCreationOptions.RunContinuationsAsynchronously);
        double? inputFps = null;
        var output = false;
        decoder.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { found.TrySetResult((0, 0, null)); return; }
            var line = e.Data;
            if (line.StartsWith("Output #0", StringComparison.Ordinal)) output = true;
            if (!line.Contains("Video:", StringComparison.Ordinal)) return;
            if (!output)
            {
                var fm = FpsPattern.Match(line);
                if (fm.Success && double.TryParse(fm.Groups[1].Value, CultureInfo.InvariantCulture, out var f) && f is > 0 and < 1000) inputFps = f;
                return;
            }
            var m = SizePattern.Match(line);
            if (m.Success) found.TrySetResult((int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), inputFps));
        };
        decoder.BeginErrorReadLine();
        if (!found.Task.Wait(openTimeout) || found.Task.Result.W <= 0)
        {
            Kill(decoder);
            return null;
        }
        var (w, h, fps) = found.Task.Result;
        return new FfmpegStreamReader(decoder, w, h, fps);
    }

    private static readonly System.Text.RegularExpressions.Regex SizePattern = new(@"rawvideo.*?, (\d{2,5})x(\d{2,5})");
    private static readonly System.Text.RegularExpressions.Regex FpsPattern = new(@", (\d+(?:\.\d+)?) fps");

    private static Process Start(string exe, string args, bool redirectOut) =>
        Process.Start(new ProcessStartInfo(exe, args)
        {
            RedirectStandardOutput = redirectOut, RedirectStandardError = true, RedirectStandardInput = false, UseShellExecute = false,
        }) ?? throw new SourceException($"could not start {exe}");

    /// <summary>Reads one whole frame into <paramref name="buffer"/>; false when the stream ended or broke.</summary>
    public bool ReadFrame(Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            int n;
            try { n = _stdout.Read(buffer[read..]); }
            catch (IOException) { return false; }
            if (n <= 0) return false;
            read += n;
        }
        return true;
    }

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) p.Kill(true); } catch (InvalidOperationException) { }
        p.Dispose();
    }

    public void Dispose() => Kill(_process);
}
