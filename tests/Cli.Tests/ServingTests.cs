using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Playwright;
using RealtimeMtl.Serving;

namespace RealtimeMtl.Cli.Tests;

/// <summary>The web view, Prometheus metrics, gRPC feed, Foxglove server and point clouds, each checked by an independent peer.</summary>
public class ServingTests
{

    internal static (int Code, string Output) RunTool(string exe, string args, string? workDir = null, int timeoutMs = 120_000)
    {
        var psi = new ProcessStartInfo(exe, args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir
            ?? Engine.Root
        };
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs)) { p.Kill(true); return (-1, "timeout " + o.Result + e.Result); }
        return (p.ExitCode, o.Result + e.Result);
    }

    private static byte[] RawLabels(string raw, long seq)
    {
        using var m = Cv2.ImRead(Path.Combine(raw, $"{seq:D6}_labels.png"), ImreadModes.Unchanged);
        var b = new byte[m.Total()];
        Marshal.Copy(m.Data, b, 0, b.Length);
        return b;
    }

    private static ushort[] RawDepthMm(string raw, long seq)
    {
        using var m = Cv2.ImRead(Path.Combine(raw, $"{seq:D6}_depth.png"), ImreadModes.Unchanged);
        var b = new ushort[m.Total()];
        var bytes = new byte[b.Length * 2];
        Marshal.Copy(m.Data, bytes, 0, bytes.Length);
        Buffer.BlockCopy(bytes, 0, b, 0, bytes.Length);
        return b;
    }

    /// <summary>Received label maps equal the raw outputs exactly; depth equals them to the PNG's millimetre rounding.</summary>
    private static int CompareWithRaw(string received, string raw, bool namedByStamp = false)
    {
        var compared = 0;
        // Foxglove messages carry no sequence: their header stamp finds the frame through the raw outputs' stamp_unix_ns.
        var bySt = namedByStamp
            ? Directory.GetFiles(raw, "*.json").Select(f => System.Text.Json.JsonDocument.Parse(File.ReadAllText(f)).RootElement)
                .ToDictionary(e => e.GetProperty("stamp_unix_ns").GetInt64(), e => e.GetProperty("sequence").GetInt64())
            : null;
        foreach (var file in Directory.GetFiles(received, "labels_*.bin"))
        {
            var name = long.Parse(Path.GetFileNameWithoutExtension(file)[7..], CultureInfo.InvariantCulture);
            var seq = bySt is null ? name : bySt.TryGetValue(name, out var s) ? s : -name;
            Assert.True(File.Exists(Path.Combine(raw, $"{seq:D6}_labels.png")), $"raw output of frame {seq} missing");
            Assert.Equal(RawLabels(raw, seq), File.ReadAllBytes(file));
            // Foxglove sends a frame's channels as separate messages: the client may stop between its labels and its depth.
            var depthFile = Path.Combine(received, $"depth_{name}.bin");
            if (namedByStamp && !File.Exists(depthFile)) continue;
            var depthBytes = File.ReadAllBytes(depthFile);
            var depth = new float[depthBytes.Length / 4];
            Buffer.BlockCopy(depthBytes, 0, depth, 0, depthBytes.Length);
            var mm = RawDepthMm(raw, seq);
            Assert.Equal(mm.Length, depth.Length);
            // Invalid depth: 0 in the millimetre PNG, NaN in the float feed (REP 118).
            for (var i = 0; i < depth.Length; i++)
                Assert.True(mm[i] == 0 ? float.IsNaN(depth[i]) : Math.Abs(depth[i] * 1000 - mm[i]) <= 0.51,
                    $"frame {seq} pixel {i}: {depth[i]} m vs {mm[i]} mm");
            compared++;
        }
        return compared;
    }

    [Fact]
    public async Task Grpc_and_foxglove_clients_receive_frames_equal_to_the_raw_outputs_and_metrics_parse_as_prometheus_text()
    {
        var python = "/usr/bin/python3";
        var node = Engine.Tool("node", "nodejs");
        var foxDir = Path.Combine(Engine.Root, "tests", "clients", "foxglove");
        Assert.True(Directory.Exists(Path.Combine(foxDir, "node_modules", "@foxglove")),
            "npm client missing: ./rtmtl test installs it (npm ci in tests/clients/foxglove)");
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        var raw = Path.Combine(work, "raw");
        (int, string) grpc = (-1, ""), foxglove = (-1, "");
        string metrics = "";
        // Port 0 everywhere: the engine binds free ports and prints them; nothing races for a port.
        var r = await Engine.ServeAsync(
            $"run --source synthetic:frames=100000,size=160x120 --realtime --save-raw {raw} --serve 127.0.0.1:0 --feed 127.0.0.1:0 --foxglove " +
                $"127.0.0.1:0 ",
            async (p, ports) =>
            {
                Assert.True(ports.Web > 0 && ports.Feed > 0 && ports.Foxglove > 0, $"bound ports not printed: {ports}");
                var g = Task.Run(() => RunTool(python, FeedClient.Args($"127.0.0.1:{ports.Feed}", Path.Combine(work, "grpc"), 5)));
                var f = Task.Run(() => RunTool(node, $"receive.mjs ws://127.0.0.1:{ports.Foxglove} {Path.Combine(work, "fox")} 5", foxDir));
                grpc = await g;
                foxglove = await f;
                using var http = new HttpClient();
                metrics = await http.GetStringAsync($"http://127.0.0.1:{ports.Web}/metrics");
                Signals.Send(p.Id, 2);
            });
        Assert.True(r.Code == 0, r.Stderr);
        Assert.True(grpc.Item1 == 0, grpc.Item2.Contains("No module named") ? "install python3-grpcio python3-grpc-tools: " + grpc.Item2
            : grpc.Item2);
        Assert.True(foxglove.Item1 == 0, foxglove.Item2);
        Assert.Equal(5, CompareWithRaw(Path.Combine(work, "grpc"), raw));
        // Describe carries the model's own metadata: architecture, depth range, classes with their palette.
        using (var shipped = new RealtimeMtl.Inference.OnnxMtlModel(Engine.ShippedModel))
        {
            var d = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "grpc", "describe.json"))).RootElement;
            Assert.Equal(shipped.Info.Architecture, d.GetProperty("architecture").GetString());
            Assert.Equal("MTL_SSW", d.GetProperty("architecture").GetString());
            Assert.Equal(shipped.Info.DepthMax, d.GetProperty("depth_max_m").GetSingle());
            Assert.True(shipped.Info.DepthMax > 0);
            Assert.Equal(shipped.Info.Labels.Classes, d.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()!).ToArray());
            var palette = d.GetProperty("palette").EnumerateArray().Select(e => e.GetString()!).ToArray();
            Assert.Equal(shipped.Info.Labels.Count, palette.Length);
            var c0 = shipped.Info.Labels.Palette[0];
            Assert.Equal($"#{c0.R:x2}{c0.G:x2}{c0.B:x2}", palette[0]);
        }
        Assert.True(CompareWithRaw(Path.Combine(work, "fox"), raw, namedByStamp: true) >= 5);
        var channels = File.ReadAllText(Path.Combine(work, "fox", "channels.json"));
        foreach (var schema in new[] { "sensor_msgs/msg/CompressedImage", "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo",
            "sensor_msgs/msg/PointCloud2", "tf2_msgs/msg/TFMessage" }) Assert.Contains(schema, channels);
        // ROS conventions (REP 105): the default frame is an optical frame; the CDR CameraInfo the client decoded is the frame's camera.
        Assert.All(File.ReadAllLines(Path.Combine(work, "fox", "frame_ids.txt")), id => Assert.Equal("camera_optical_frame", id));
        var info = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "fox", "camera_info.json"))).RootElement;
        Assert.Equal(160u, info.GetProperty("width").GetUInt32());
        var nyu = RealtimeMtl.Pipeline.Frames.CameraIntrinsics.Nyu.ScaledTo(160, 120);
        Assert.Equal(nyu.K, info.GetProperty("k").EnumerateArray().Select(v => v.GetDouble()).ToArray());
        Assert.Equal(nyu.P, info.GetProperty("p").EnumerateArray().Select(v => v.GetDouble()).ToArray());
        // Per-class depth statistics: shares sum to one, nearest <= median.
        var classes = File.ReadAllLines(Directory.GetFiles(Path.Combine(work, "grpc"), "classes_*.txt")[0]).Select(l => l.Split(' ')).ToList();
        Assert.Equal(1.0, classes.Sum(c => double.Parse(c[2], CultureInfo.InvariantCulture)), 3);
        Assert.All(classes, c => Assert.True(double.Parse(c[3], CultureInfo.InvariantCulture) <= double.Parse(c[4], CultureInfo.InvariantCulture)));

        // Prometheus text format: HELP/TYPE comments, then name{labels} value lines.
        var samples = new Dictionary<string, double>();
        foreach (var line in metrics.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#')) { Assert.Matches(@"^# (HELP|TYPE) \w+ .+$", line); continue; }
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$");
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            samples[m.Groups[1].Value + m.Groups[2].Value] = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        }
        Assert.True(samples["rtmtl_frames_total{camera=\"cam0\"}"] > 0);
        // Prometheus conventions: latencies in seconds (histograms), drops and errors as _total counters, a build_info gauge.
        Assert.Contains(samples.Keys, k => k.StartsWith("rtmtl_stage_latency_seconds_bucket{stage=\"model\""));
        Assert.InRange(samples.First(kv => kv.Key.StartsWith("rtmtl_stage_latency_seconds_sum{stage=\"model\"")).Value / samples.First(kv
            => kv.Key.StartsWith("rtmtl_stage_latency_seconds_count{stage=\"model\"")).Value, 1e-5, 5);
        Assert.Contains(samples.Keys, k => k.StartsWith("rtmtl_dropped_frames_total{where=\"source\""));
        Assert.Contains(samples.Keys, k => k.StartsWith("rtmtl_build_info{") && k.Contains("onnxruntime=\"1."));
        Assert.DoesNotContain(samples.Keys, k => k.Contains("_ms"));
        Assert.Contains(samples.Keys, k => k.StartsWith("rtmtl_device_info{device=\"cpu\""));
        // The engine's own series are rtmtl_; beside them only the process's and the .NET runtime's (prometheus-net's collectors).
        Assert.All(samples.Keys, k => Assert.Matches("^(rtmtl|process|dotnet)_", k));
        Assert.Contains(samples.Keys, k => k.StartsWith("process_cpu_seconds_total"));
    }

    [Fact]
    public async Task The_web_page_shows_a_changing_stream_live_stats_and_switches_layout()
    {
        var chromium = Engine.Tool("chromium", "chromium");
        var record = Engine.Temp("recorded.mp4");
        var r = await Engine.ServeAsync($"run --source synthetic:frames=100000,size=160x120 --realtime --serve 127.0.0.1:0 --layout side --record " +
            $"{record}", async (p, ports) =>
        {
            var port = ports.Web;
            try
            {
                using var playwright = await Playwright.CreateAsync();
                await using var browser = await playwright.Chromium.LaunchAsync(new()
                {
                    ExecutablePath = chromium, Headless = true,
                    Args = ["--no-sandbox", "--disable-gpu"]
                });
                var page = await browser.NewPageAsync();
                await page.GotoAsync($"http://127.0.0.1:{port}/");
                var img = page.Locator("#stream");
                await page.WaitForFunctionAsync("document.getElementById('stream').naturalWidth > 0");
                var first = await img.ScreenshotAsync();
                await page.WaitForTimeoutAsync(700);
                var second = await img.ScreenshotAsync();
                Assert.NotEqual(first, second);
                await page.WaitForFunctionAsync("Number(document.getElementById('frames').textContent) > 0");
                var framesA = int.Parse(await page.Locator("#frames").InnerTextAsync());
                await page.WaitForFunctionAsync($"Number(document.getElementById('frames').textContent) > {framesA}");
                Assert.Equal(480, await page.EvaluateAsync<int>("document.getElementById('stream').naturalWidth"));
                await page.SelectOptionAsync("#layout", "overlay");
                await page.WaitForFunctionAsync("document.getElementById('stream').naturalWidth === 160");
                using var http = new HttpClient();
                Assert.Contains("\"layout\":\"overlay\"", await http.GetStringAsync($"http://127.0.0.1:{port}/api/stats"));
                // Frames drawn after the switch reach the recording too; give it some.
                var frames = int.Parse(await page.Locator("#frames").InnerTextAsync());
                await page.WaitForFunctionAsync($"Number(document.getElementById('frames').textContent) > {frames + 10}");
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
        // The viewer changed what it sees, not the recording: every recorded frame is the side layout, none rescaled.
        using (var cap = new VideoCapture(record)) Assert.Equal(480, cap.FrameWidth);
        Assert.DoesNotContain("of another size scaled", r.Stdout);
        Assert.Equal(Engine.Recorded(r.Stdout).InFile, Engine.Probe(record).Frames);
    }

    [Fact]
    public async Task Without_a_token_only_loopback_host_names_are_served_and_render_changes_need_JSON_from_the_same_origin()
    {
        var r = await Engine.ServeAsync($"run --source synthetic:frames=100000,size=96x72 --realtime --serve :0", async (p, ports) =>
        {
            var port = ports.Web;
            try
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                async Task<HttpStatusCode> Get(string host)
                {
                    using var req = new HttpRequestMessage(HttpMethod.Get, "/api/stats");
                    req.Headers.Host = host;
                    return (await http.SendAsync(req)).StatusCode;
                }
                // DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1.
                Assert.Equal(HttpStatusCode.MisdirectedRequest, await Get($"evil.example:{port}"));
                Assert.Equal(HttpStatusCode.OK, await Get($"localhost:{port}"));
                Assert.Equal(HttpStatusCode.OK, await Get($"127.0.0.1:{port}"));
                Assert.Equal(HttpStatusCode.OK, await Get($"[::1]:{port}"));

                async Task<HttpStatusCode> Post(string type, string? origin)
                {
                    using var req = new HttpRequestMessage(HttpMethod.Post, "/api/render")
                    {
                        Content = new StringContent("{\"layout\":\"overlay\"}",
                        System.Text.Encoding.UTF8, type)
                    };
                    if (origin is not null) req.Headers.Add("Origin", origin);
                    return (await http.SendAsync(req)).StatusCode;
                }
                // A cross-origin "simple" POST (no CORS preflight) is refused before it changes anything.
                Assert.Equal(HttpStatusCode.UnsupportedMediaType, await Post("text/plain", $"http://evil.example:{port}"));
                Assert.Equal(HttpStatusCode.Forbidden, await Post("application/json", $"http://evil.example:{port}"));
                Assert.DoesNotContain("\"layout\":\"overlay\"", await http.GetStringAsync("/api/stats"));
                Assert.Equal(HttpStatusCode.OK, await Post("application/json", $"http://127.0.0.1:{port}"));
                Assert.Equal(HttpStatusCode.OK, await Post("application/json", null)); // not a browser: no Origin
                Assert.Contains("\"layout\":\"overlay\"", await http.GetStringAsync("/api/stats"));
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
    }

    [Fact]
    public async Task Servers_bind_loopback_by_default_serve_only_fixed_routes_and_enforce_the_token()
    {
        Assert.Equal(IPAddress.Loopback, ServeOptions.ParseEndpoint("8080", 1).Address);
        Assert.Equal(IPAddress.Loopback, ServeOptions.ParseEndpoint(":9000", 1).Address);
        Assert.Throws<ArgumentException>(() => ServeOptions.ParseEndpoint("nowhere:abc", 1));
        // Port 0 only when asked for explicitly (the system picks a free one, and the engine prints it); no port: the default.
        Assert.Equal(0, ServeOptions.ParseEndpoint("127.0.0.1:0", 8080).Port);
        Assert.Equal(0, ServeOptions.ParseEndpoint(":0", 8080).Port);
        Assert.Equal(8080, ServeOptions.ParseEndpoint("127.0.0.1", 8080).Port);
        var r = await Engine.ServeAsync($"run --source synthetic:frames=100000,size=96x72 --realtime --serve :0 --token s3cret-token --max-viewers 1",
            async (p, ports) =>
        {
            var port = ports.Web;
            try
            {
                // The listening socket is on 127.0.0.1 only (from /proc/net/tcp: 0100007F = 127.0.0.1, state 0A = LISTEN).
                var hex = port.ToString("X4", CultureInfo.InvariantCulture);
                var listeners = File.ReadLines("/proc/net/tcp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f
                    => f[1].EndsWith(":" + hex) && f[3] == "0A").ToList();
                Assert.Single(listeners);
                Assert.Equal($"0100007F:{hex}", listeners[0][1]);
                Assert.DoesNotContain(File.ReadLines("/proc/net/tcp6").Skip(1), l => l.Contains(":" + hex + " ") && l.Contains(" 0A "));

                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/stats")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/stats?token=s3cret-token")).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/etc/passwd?token=s3cret-token")).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/../README.md?token=s3cret-token")).StatusCode);
                var big = new StringContent(new string('x', 100_000), System.Text.Encoding.UTF8, "application/json");
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await http.PostAsync("/api/render?token=s3cret-token", big)).StatusCode);
                Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/render?token=s3cret-token", new StringContent("{not json",
                    System.Text.Encoding.UTF8, "application/json"))).StatusCode);
                Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/render?token=s3cret-token", new StringContent("{\"alpha\":7}",
                    System.Text.Encoding.UTF8, "application/json"))).StatusCode);
                // Viewer cap: a second concurrent stream is refused while the first is open.
                using var first = await http.GetAsync("/stream.mjpg?token=s3cret-token", HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
                using var second = await http.GetAsync("/stream.mjpg?token=s3cret-token", HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
    }

    [Fact]
    public void Point_cloud_has_one_vertex_per_valid_depth_pixel()
    {
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        var raw = Path.Combine(work, "raw");
        var ply = Path.Combine(work, "ply");
        var r = Engine.Run($"run --source synthetic:frames=4,size=96x72 --save-raw {raw} --save-pointcloud {ply} --every 2 --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Equal(["000000.ply", "000002.ply"], Directory.GetFiles(ply).Select(f => Path.GetFileName(f)!).Order().ToArray());
        var bytes = File.ReadAllBytes(Path.Combine(ply, "000002.ply"));
        var headerEnd = System.Text.Encoding.ASCII.GetString(bytes).IndexOf("end_header\n", StringComparison.Ordinal) + "end_header\n".Length;
        var header = System.Text.Encoding.ASCII.GetString(bytes, 0, headerEnd);
        Assert.StartsWith("ply\nformat binary_little_endian 1.0\n", header);
        var vertices = int.Parse(header.Split('\n').First(l => l.StartsWith("element vertex ")).Split(' ')[2]);
        var valid = RawDepthMm(raw, 2).Count(v => v > 0);
        Assert.Equal(valid, vertices);
        Assert.Equal(headerEnd + vertices * 16, bytes.Length); // 3 floats + rgb + label
        // First vertex: z equals the depth of some valid pixel, in metres.
        var z = BitConverter.ToSingle(bytes, headerEnd + 8);
        Assert.InRange(z, 0.1f, 10f);
    }
}
