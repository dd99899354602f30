using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Capture.Tests;

/// <summary>
/// Issue 22's stream probes with real ffmpeg senders: a UDP stream that goes silent (ffmpeg's own timeouts do not
/// fire for udp://), and a video file served over HTTP (which must be read as a file, not looped as an outage).
/// </summary>
public class StreamOutageTests
{

    private const int SigStop = 19, SigCont = 18;

    private static int FfmpegReadersOf(string url)
    {
        var count = 0;
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            try
            {
                if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmd.Contains("ffmpeg") && cmd.Contains($"-i {url}") || cmd.Contains($"-i \"{url}\"")) count++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return count;
    }

    [Fact]
    public async Task A_UDP_stream_that_goes_silent_is_noticed_within_seconds_and_comes_back_when_it_resumes()
    {
        var ffmpeg = Tools.Require("ffmpeg", "ffmpeg");
        var port = Tools.FreePort();
        var url = $"udp://127.0.0.1:{port}";
        using var sender = Process.Start(new ProcessStartInfo(ffmpeg,
            $"-v error -re -f lavfi -i testsrc=size=160x120:rate=20 -c:v mpeg2video -g 5 -f mpegts udp://127.0.0.1:{port}?pkt_size=1316")
        { RedirectStandardError = true, RedirectStandardInput = true })!;
        var events = new CollectingEvents();
        try
        {
            var options = new NetworkStreamOptions
            {
                OpenTimeout = TimeSpan.FromSeconds(8), ReadTimeout = TimeSpan.FromSeconds(30),
                MaxBackoff = TimeSpan.FromMilliseconds(500), GiveUpAfter = TimeSpan.FromSeconds(40)
            };
            await using (var source = new NetworkStreamSource(url, options, events))
            {
                var frames = 0;
                var paused = false;
                var stallSeen = Stopwatch.StartNew();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                var resume = Task.CompletedTask;
                await foreach (var frame in source.ReadAllAsync(cts.Token))
                {
                    frame.Dispose();
                    frames++;
                    if (frames == 10 && !paused)
                    {
                        // The sender freezes (no FIN, no error): only the engine's own stall detection can see it.
                        Assert.True(Signals.Send(sender.Id, SigStop),
                            $"the ffmpeg sender had already exited " +
                                $"({(sender.HasExited ? $"exit {sender.ExitCode}: {sender.StandardError.ReadToEnd()}" : "still running")})");
                        paused = true;
                        stallSeen.Restart();
                        resume = Task.Run(async () =>
                        {
                            while (!events.Warnings.Any(w => w.Contains("stalled")) && stallSeen.Elapsed < TimeSpan.FromSeconds(20)) await
                                Task.Delay(100);
                            events.Warning($"(test) stall noticed after {stallSeen.Elapsed.TotalSeconds:0.0} s");
                            Signals.Send(sender.Id, SigCont);
                        });
                    }
                    if (paused && source.Outages >= 1 && frames >= 20) break;
                }
                await resume;
                Assert.Contains(events.Warnings, w => w.Contains($"stream {url} stalled (no frame for 2 s)"));
                var noticed = events.Warnings.First(w => w.StartsWith("(test) stall noticed"));
                Assert.True(stallSeen.Elapsed < TimeSpan.FromSeconds(20), noticed);
                Assert.Contains(events.Warnings, w => w.Contains("back after"));
                Assert.Equal(1, source.Outages);
            }
            // Disposed: no ffmpeg reader is left behind.
            Assert.Equal(0, FfmpegReadersOf(url));
        }
        finally
        {
            Signals.Send(sender.Id, SigCont);
            if (!sender.HasExited) sender.Kill(true);
        }
    }

    [Fact]
    public async Task A_video_file_served_over_HTTP_is_read_whole_like_a_file_and_ends_the_stream()
    {
        var ffmpeg = Tools.Require("ffmpeg", "ffmpeg");
        var dir = Directory.CreateTempSubdirectory("rtmtl-http-").FullName;
        try
        {
            var clip = Path.Combine(dir, "clip.mp4");
            using (var make = Process.Start(new ProcessStartInfo(ffmpeg,
                $"-v error -f lavfi -i testsrc=size=128x96:rate=10 -frames:v 40 -c:v libx264 -pix_fmt yuv420p -movflags +faststart -y {clip}")
            {
                RedirectStandardError = true
            })!)
                await make.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            var bytes = await File.ReadAllBytesAsync(clip);
            var port = Tools.FreePort();
            using var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            using var stop = new CancellationTokenSource();
            var serve = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    HttpListenerContext ctx;
                    try { ctx = await listener.GetContextAsync(); } catch (Exception) { return; }
                    ctx.Response.ContentType = "video/mp4";
                    ctx.Response.ContentLength64 = bytes.Length;
                    try { await ctx.Response.OutputStream.WriteAsync(bytes); ctx.Response.Close(); } catch (Exception) { }
                }
            });
            var events = new CollectingEvents();
            await using (var source = new NetworkStreamSource($"http://127.0.0.1:{port}/clip.mp4", new NetworkStreamOptions(), events))
            {
                Assert.True(source.IsFile);
                Assert.False(source.IsLive);
                var frames = 0;
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await foreach (var frame in source.ReadAllAsync(cts.Token))
                {
                    Assert.Equal(128, frame.Width);
                    frame.Dispose();
                    // A consumer slower than the stall time (a heavy model) holds the grab thread: that is no outage.
                    if (++frames == 5) await Task.Delay(3000);
                }
                Assert.Equal(40, frames);
                Assert.Empty(events.Warnings); // no "dropped after frame 0 / back after" loop
            }
            stop.Cancel();
            listener.Stop();
        }
        finally { Directory.Delete(dir, true); }
    }
}
