using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RealtimeMtl.Common.Concurrency;
using RealtimeMtl.Render;
using RealtimeMtl.Render.Drawing;
using RealtimeMtl.Sinks;

namespace RealtimeMtl.Cli.Tests;

/// <summary>The defects a probe of bad inputs, faults and attacks found; each test failed before its fix.</summary>
public class SecurityAndFaultTests
{

    [Theory]
    [InlineData("--serve 0.0.0.0:{0}", "--serve 0.0.0.0:{0}")]
    [InlineData("--feed 0.0.0.0:{0}", "--feed 0.0.0.0:{0}")]
    [InlineData("--foxglove 0.0.0.0:{0}", "--foxglove 0.0.0.0:{0}")]
    public void Serving_beyond_loopback_without_a_token_is_refused_unless_asked_for_and_then_warned_about(string option, string named)
    {
        var port = Engine.FreePort();
        var opt = string.Format(option, port);
        var refused = Engine.Run($"run --source synthetic:frames=3,size=96x72 {opt} --quiet");
        Assert.Equal(2, refused.Code);
        Assert.Contains(string.Format(named, port), refused.Stderr);
        Assert.Contains("--allow-anonymous", refused.Stderr);
        Assert.Contains("--token", refused.Stderr);

        var allowed = Engine.Run($"run --source synthetic:frames=3,size=96x72 {opt} --allow-anonymous --quiet");
        Assert.True(allowed.Code == 0, allowed.Stderr);
        var warnings = allowed.Stderr.Split('\n').Where(l => l.StartsWith("warning:")).ToList();
        Assert.Single(warnings);
        Assert.Contains(string.Format(named, port), warnings[0]);

        // With a token, or on loopback, nothing to warn about.
        var withToken = Engine.Run($"run --source synthetic:frames=3,size=96x72 {opt} --token s3cret-token --quiet");
        Assert.True(withToken.Code == 0, withToken.Stderr);
        Assert.DoesNotContain("warning:", withToken.Stderr);
    }

    [Fact]
    public async Task Eight_viewers_that_never_read_are_evicted_and_a_real_viewer_then_gets_frames()
    {
        var stats = Engine.Temp("evict.json");
        var stalled = new List<Socket>();
        var r = await Engine.ServeAsync($"run --source synthetic:frames=100000,size=640x480,world=classic --realtime --serve 127.0.0.1:0 " +
            $"--viewer-timeout 1 --stats-json {stats}", async (p, ports) =>
        {
            var port = ports.Web;
            try
            {
                for (var i = 0; i < 100 && !Engine.IsListening(port); i++) await Task.Delay(50);
                for (var i = 0; i < 8; i++)
                {
                    // A tiny receive window and no reads: the server's writes stall after a few KB.
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 2048 };
                    await s.ConnectAsync(IPAddress.Loopback, port);
                    await s.SendAsync("GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray());
                    stalled.Add(s);
                }
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
                // Wait until the server has taken all eight as viewers (slow on a loaded machine).
                for (var i = 0; i < 100; i++)
                {
                    if (JsonDocument.Parse(await http.GetStringAsync("/api/stats")).RootElement.GetProperty("viewers").GetInt32() >= 8) break;
                    await Task.Delay(100);
                }
                // All eight slots are held: a real viewer is turned away at first (unless a stalled one was already evicted)...
                using (var early = await http.GetAsync("/stream.mjpg", HttpCompletionOption.ResponseHeadersRead))
                {
                    if (early.StatusCode != HttpStatusCode.ServiceUnavailable)
                        Assert.True(JsonDocument.Parse(await http.GetStringAsync("/api/stats")).RootElement.GetProperty("viewers_evicted").GetInt64()
                            >= 1,
                            $"a ninth viewer got {early.StatusCode} while eight held the slots");
                }
                // ...and gets frames once the stalled ones pass the write deadline.
                var got = false;
                for (var attempt = 0; attempt < 120 && !got; attempt++)
                {
                    using var resp = await http.GetAsync("/stream.mjpg", HttpCompletionOption.ResponseHeadersRead);
                    if (resp.StatusCode == HttpStatusCode.OK)
                    {
                        await using var body = await resp.Content.ReadAsStreamAsync();
                        var buffer = new byte[4096];
                        var n = await body.ReadAsync(buffer);
                        got = n > 0 && System.Text.Encoding.ASCII.GetString(buffer, 0, n).Contains("Content-Type: image/jpeg");
                    }
                    else await Task.Delay(500);
                }
                Assert.True(got, "a reading viewer never got a frame while stalled viewers held the slots");
                var evicted = JsonDocument.Parse(await http.GetStringAsync("/api/stats")).RootElement.GetProperty("viewers_evicted").GetInt64();
                Assert.True(evicted >= 1, $"evicted {evicted}");
            }
            finally
            {
                foreach (var s in stalled) s.Dispose();
                Signals.Send(p.Id, 2);
            }
        });
        Assert.True(r.Code == 0, r.Stderr);
        Assert.True(JsonDocument.Parse(File.ReadAllText(stats)).RootElement.GetProperty("viewers_evicted").GetInt64() >= 1);
    }

    [Fact]
    public async Task A_lowercase_bearer_scheme_is_accepted_and_the_page_opened_with_header_auth_loads_its_own_stats()
    {
        var r = await Engine.ServeAsync($"run --source synthetic:frames=100000,size=96x72 --realtime --serve 127.0.0.1:0 --token s3cret-token",
            async (p, ports) =>
        {
            var port = ports.Web;
            try
            {
                for (var i = 0; i < 100 && !Engine.IsListening(port); i++) await Task.Delay(50);
                var cookies = new CookieContainer();
                using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies })
                {
                    BaseAddress = new
                    Uri($"http://127.0.0.1:{port}/")
                };
                using (var lower = new HttpRequestMessage(HttpMethod.Get, "/api/stats"))
                {
                    lower.Headers.TryAddWithoutValidation("Authorization", "bearer s3cret-token");
                    Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(lower)).StatusCode);
                }
                using (var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/stats"))
                {
                    wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token");
                    Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);
                }
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/stats")).StatusCode);
                // The page opened with the header: its own script's request (no header, no ?token) must work.
                using (var page = new HttpRequestMessage(HttpMethod.Get, "/"))
                {
                    page.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token");
                    Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(page)).StatusCode);
                }
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/stats")).StatusCode);
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
    }

    [Fact]
    public void A_one_frame_run_reports_no_rate_and_its_json_has_only_numbers_or_null()
    {
        var json = Engine.Temp("one.json");
        var r = Engine.Run($"run --source synthetic:frames=1,size=96x72 --quiet --stats-json {json}");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.DoesNotContain("NaN", r.Stdout);
        var text = File.ReadAllText(json);
        Assert.DoesNotContain("NaN", text);
        Assert.DoesNotContain("Infinity", text);
        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("fps").ValueKind);
        Assert.Equal(1, root.GetProperty("frames").GetInt64());
    }

    /// <summary>A live source whose own queue dropped frames before the pipeline saw them.</summary>
    private sealed class DroppingLiveSource : IFrameSource
    {
        public string Description => "live source with its own queue";
        public bool IsLive => true;
        public double? NominalFps => 30;
        public long? FrameCount => null;
        public long DroppedInternally => 7;

        public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            for (var i = 0; i < 5; i++)
            {
                yield return new Frame(i, Stopwatch.GetTimestamp(), new Mat(72, 96, MatType.CV_8UC3, Scalar.All(100)));
                await Task.Delay(30, cancellationToken);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Frames_a_network_source_dropped_in_its_own_queue_are_counted_in_the_summary()
    {
        using var model = new OnnxMtlModel(Engine.ShippedModel);
        using var renderer = new FrameRenderer(model.Info, new RenderOptions());
        var summary = await TestPipelines.Create(new DroppingLiveSource(), model, renderer, [], new PipelineOptions(),
            new CollectingEvents()).RunAsync();
        Assert.True(summary.DroppedAtSource >= 7, $"dropped {summary.DroppedAtSource}");
        Assert.Equal(5, summary.Frames + summary.DroppedAtSource - 7);
    }

    [Fact]
    public void The_newest_wins_queue_drops_and_disposes_the_oldest_frame_when_its_consumer_is_behind()
    {
        var disposed = new List<byte>();
        var queue = new NewestWins<Mat>(2, m => { disposed.Add(m.At<byte>(0, 0)); m.Dispose(); });
        for (var i = 1; i <= 4; i++) Assert.True(queue.Offer(new Mat(1, 1, MatType.CV_8UC1, Scalar.All(i))));
        queue.Complete();
        Assert.False(queue.Offer(new Mat(1, 1, MatType.CV_8UC1, Scalar.All(5)))); // after completion: refused and dropped
        var seen = new List<byte>();
        while (queue.Reader.TryRead(out var m)) using (m) seen.Add(m.At<byte>(0, 0));
        Assert.Equal([3, 4], seen);
        Assert.Equal([1, 2, 5], disposed);
        Assert.Equal(2, queue.DroppedCount);
    }

    /// <summary>A viewer-style sink with nobody watching: it must not be handed frames or count skips.</summary>
    private sealed class UnwatchedSink : IFrameSink
    {
        public string Name => "unwatched";
        public bool Lossless => false;
        public bool Wanted => false;
        public int Received;
        public async ValueTask WriteAsync(FramePacket packet, CancellationToken ct) { Received++; await Task.Delay(50, ct); }
        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task No_frame_counts_as_skipped_by_viewers_when_no_viewer_is_connected()
    {
        using var model = new OnnxMtlModel(Engine.ShippedModel);
        using var renderer = new FrameRenderer(model.Info, new RenderOptions());
        var sink = new UnwatchedSink();
        await using var source = new Capture.Synthetic.SyntheticSource(new Capture.Synthetic.SyntheticOptions
        {
            Frames = 20, Width = 96,
            Height = 72
        });
        var summary = await TestPipelines.Create(source, model, renderer, [sink], new PipelineOptions(), new CollectingEvents()).RunAsync();
        Assert.Equal(20, summary.Frames);
        Assert.Equal(0, sink.Received);
        Assert.Equal(0, summary.DroppedAtViewers);
        Assert.DoesNotContain("skipped by viewers", summary.ToText());
    }

    [Theory]
    [InlineData("run --source synthetic --depth-range 0,Infinity", "--depth-range")]
    [InlineData("run --source synthetic --model models", "is a folder")]
    [InlineData("run --source synthetic --every 5", "--save-pointcloud")]
    [InlineData("run --source synthetic --viewer-timeout 0 --serve 127.0.0.1:1", "--viewer-timeout")]
    public void Smaller_bad_options_are_one_error_line_and_exit_2(string args, string named)
    {
        var r = Engine.Run(args);
        Assert.Equal(2, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(named, lines[0]);
    }

    [Theory]
    [InlineData("run --no-such-option")]
    [InlineData("run --max-frames lots")]
    [InlineData("bench --frames")]
    public void A_parse_error_is_one_short_line_with_a_hint_and_exit_2(string args)
    {
        var r = Engine.Run(args);
        Assert.Equal(2, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Equal($"see ./rtmtl {args.Split(' ')[0]} --help", lines[1].Trim());
        Assert.DoesNotContain("Options:", r.Stdout);
    }

    [Fact]
    public void Raw_outputs_from_an_image_folder_keep_the_source_file_name_after_a_skipped_image()
    {
        var folder = Path.Combine(Path.GetDirectoryName(Engine.Temp("x"))!, "shots");
        Directory.CreateDirectory(folder);
        foreach (var name in new[] { "a.png", "c.png" })
        {
            using var img = new Mat(72, 96, MatType.CV_8UC3, Scalar.All(120));
            Cv2.ImWrite(Path.Combine(folder, name), img);
        }
        File.WriteAllText(Path.Combine(folder, "b.png"), "not an image");
        var raw = Engine.Temp("raw-shots");
        var r = Engine.Run($"run --source {folder} --save-raw {raw} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        var sources = Directory.GetFiles(raw, "*.json").Order()
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("source_file").GetString()).ToList();
        Assert.Equal(["a.png", "c.png"], sources);
        // Named after their inputs.
        foreach (var stem in new[] { "a", "c" })
            foreach (var suffix in new[] { "_labels.png", "_depth.png", ".json" }) Assert.True(File.Exists(Path.Combine(raw, stem + suffix)),
                stem + suffix);
    }

    [Fact]
    public void Invalid_depth_is_nan_in_the_float_feed_and_zero_in_millimetres()
    {
        var payload = new RealtimeMtl.Feed.FeedPayload
        {
            Sequence = 1, ReceiveUnixNs = 0, Width = 3, Height = 1, Labels = [0, 1, 2], Depth = [1.5f, 0f, float.PositiveInfinity],
            Classes = [],
        };
        var metres = payload.ToMessage(RealtimeMtl.Feed.DepthEncoding.DepthFloat32Metres, false).Depth.ToByteArray();
        var f = new float[3];
        Buffer.BlockCopy(metres, 0, f, 0, 12);
        Assert.Equal(1.5f, f[0]);
        Assert.True(float.IsNaN(f[1]) && float.IsNaN(f[2]));
        var mm = payload.ToMessage(RealtimeMtl.Feed.DepthEncoding.DepthUint16Millimetres, false).Depth.ToByteArray();
        Assert.Equal([1500, 0, 0], Enumerable.Range(0, 3).Select(i => (int)BitConverter.ToUInt16(mm, 2 * i)));
    }
}
