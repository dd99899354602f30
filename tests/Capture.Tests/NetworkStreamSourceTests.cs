using System.Diagnostics;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Capture.Tests;

public class NetworkStreamSourceTests
{
    private static Process Serve(string ffmpeg, int port, bool waitUntilListening = true)
    {
        var p = Process.Start(new ProcessStartInfo(ffmpeg,
            $"-v error -re -f lavfi -i testsrc=size=160x120:rate=20 -c:v mpeg2video -g 5 -f mpegts tcp://127.0.0.1:{port}?listen=1")
        { RedirectStandardError = true, RedirectStandardInput = true })!;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        // On a restart the reconnecting source may be accepted (ending the LISTEN state) before we look: don't wait then.
        while (waitUntilListening && !Tools.IsListening(port))
        {
            if (DateTime.UtcNow > deadline || p.HasExited) throw new InvalidOperationException("ffmpeg did not start listening");
            Thread.Sleep(50);
        }
        return p;
    }

    [Fact]
    public async Task Listens_for_a_sender_with_tcp_listen_and_opens_the_stream_once()
    {
        // The engine is the server (tcp://...?listen=1): one ffmpeg listens and decodes; a second opening (a probe)
        // would wait for a second sender that never comes.
        var ffmpeg = Tools.Require("ffmpeg", "ffmpeg");
        var port = Tools.FreePort();
        var options = new NetworkStreamOptions { OpenTimeout = TimeSpan.FromSeconds(20), ReadTimeout = TimeSpan.FromSeconds(5) };
        var opening = Task.Run(() => new NetworkStreamSource($"tcp://127.0.0.1:{port}?listen=1", options, new CollectingEvents()));
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!Tools.IsListening(port))
        {
            Assert.True(DateTime.UtcNow < deadline, "the source did not listen");
            await Task.Delay(50);
        }
        using var sender = Process.Start(new ProcessStartInfo(ffmpeg,
            $"-v error -re -f lavfi -i testsrc=size=128x96:rate=20 -t 20 -c:v mpeg2video -g 5 -f mpegts tcp://127.0.0.1:{port}")
        {
            RedirectStandardError = true
        })!;
        try
        {
            await using var source = await opening;
            var frames = 0;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await foreach (var frame in source.ReadAllAsync(cts.Token))
            {
                Assert.Equal((128, 96), (frame.Width, frame.Height));
                frame.Dispose();
                if (++frames == 10) break;
            }
            Assert.Equal(10, frames);
        }
        finally { if (!sender.HasExited) sender.Kill(true); }
    }

    [Fact]
    public async Task Reads_an_ffmpeg_served_stream_and_reconnects_after_the_server_restarts()
    {
        var ffmpeg = Tools.Require("ffmpeg", "ffmpeg");
        var port = Tools.FreePort();
        var server = Serve(ffmpeg, port);
        var events = new CollectingEvents();
        var options = new NetworkStreamOptions
        {
            OpenTimeout = TimeSpan.FromSeconds(5), ReadTimeout = TimeSpan.FromSeconds(2),
            MaxBackoff = TimeSpan.FromMilliseconds(500), GiveUpAfter = TimeSpan.FromSeconds(30)
        };
        await using var source = new NetworkStreamSource($"tcp://127.0.0.1:{port}", options, events);
        Assert.True(source.IsLive);
        var before = 0; var after = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var restarted = false;
        try
        {
            await foreach (var frame in source.ReadAllAsync(cts.Token))
            {
                Assert.Equal(160, frame.Width);
                frame.Dispose();
                if (!restarted)
                {
                    if (++before == 10)
                    {
                        server.Kill(true);
                        server.WaitForExit();
                        await Task.Delay(800);
                        server = Serve(ffmpeg, port, waitUntilListening: false);
                        restarted = true;
                    }
                }
                else if (++after == 10) break;
            }
        }
        finally
        {
            if (!server.HasExited) server.Kill(true);
        }
        Assert.Equal(10, before);
        Assert.Equal(10, after);
        Assert.True(source.Outages >= 1, "the outage is counted");
        Assert.Contains(events.Warnings, w => w.Contains("dropped") && w.Contains($"127.0.0.1:{port}"));
        Assert.Contains(events.Warnings, w => w.Contains("back after"));
    }

    [Fact]
    public void A_url_that_connects_and_never_sends_fails_within_the_open_timeout()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var held = listener.AcceptTcpClientAsync(); // accept, then say nothing
        try
        {
            var e = Assert.Throws<SourceException>(() => new NetworkStreamSource($"tcp://127.0.0.1:{port}", new NetworkStreamOptions
            {
                OpenTimeout =
                TimeSpan.FromSeconds(2), ReadTimeout = TimeSpan.FromSeconds(2)
            }));
            Assert.Contains("sending nothing", e.Message);
        }
        finally { listener.Stop(); }
    }

    [Theory]
    [InlineData("http://")]
    [InlineData("ftp://host/x")]
    [InlineData("rtsp://:554")]
    public void A_malformed_url_is_one_clear_error(string url)
    {
        var e = Assert.Throws<SourceException>(() => SourceFactory.Open(url));
        Assert.Contains("malformed", e.Message);
    }

    [Fact]
    public void A_url_that_refuses_fails_within_the_open_timeout()
    {
        var port = Tools.FreePort();
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<SourceException>(() => new NetworkStreamSource($"tcp://127.0.0.1:{port}", new NetworkStreamOptions
        {
            OpenTimeout =
            TimeSpan.FromSeconds(2)
        }));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20));
    }
}
