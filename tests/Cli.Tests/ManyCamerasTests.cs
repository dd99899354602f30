using System.Text.Json;

namespace RealtimeMtl.Cli.Tests;

/// <summary>Several cameras in one engine: batched inference, per-camera outputs and faults.</summary>
public class ManyCamerasTests
{
    private static JsonElement Camera(JsonElement stats, string name) =>
        stats.GetProperty("cameras").EnumerateArray().Single(c => c.GetProperty("camera").GetString() == name);

    [Fact]
    public void Cameras_of_different_sizes_and_rates_are_batched_and_a_stalled_and_a_dead_camera_hold_nobody()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var json = Path.Combine(dir, "stats.json");
        // Three cameras of different sizes and rates, one that stalls for a second and one that dies at frame 20.
        var r = Engine.Run("run --source front=synthetic:seed=1,frames=45,size=320x240 --source rear=synthetic:seed=2,frames=30,size=160x120,fps=15 "
            + "--source synthetic:seed=3,frames=36,size=240x180,fps=20 --source stalled=synthetic:seed=5,frames=40,size=192x144,stall=8:1 "
            + $"--source dead=synthetic:seed=4,frames=80,size=200x150,fail=20 --record {dir}/{{camera}}.mp4 --save-raw {dir}/raw --stats-json " +
                $"{json}");
        // A camera failed: the run says so and exits 3 at the end, after every other camera finished.
        Assert.True(r.Code == 3, r.Stderr);
        Assert.Single(r.Stderr.Split('\n'), l => l.Contains("camera dead: synthetic camera failed at frame 20"));
        var stats = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        foreach (var (name, frames) in new[] { ("front", 45), ("rear", 30), ("cam2", 36), ("stalled", 40), ("dead", 20) })
        {
            var cam = Camera(stats, name);
            Assert.Equal(frames, cam.GetProperty("frames").GetInt32());
            // Every recording holds exactly its camera's processed frames, and plays (the dead camera's too).
            Assert.Equal(frames, Engine.Probe(Path.Combine(dir, $"{name}.mp4")).Frames);
            Assert.Equal(frames, Directory.GetFiles(Path.Combine(dir, "raw", name), "*.json").Length);
            Assert.True(cam.GetProperty("stages").GetProperty("end-to-end").GetProperty("p99").GetDouble() > 0);
        }
        Assert.Contains("synthetic camera failed", Camera(stats, "dead").GetProperty("source_error").GetString());
        Assert.Equal(JsonValueKind.Null, Camera(stats, "front").GetProperty("source_error").ValueKind);
        // Batched: some model runs took more than one frame, and the runs account for every frame.
        var batching = stats.GetProperty("batching");
        var sizes = batching.GetProperty("runs_by_batch_size").EnumerateObject().ToDictionary(p => int.Parse(p.Name), p => p.Value.GetInt64());
        Assert.Contains(sizes, kv => kv.Key > 1 && kv.Value > 0);
        Assert.Equal(45 + 30 + 36 + 40 + 20, sizes.Sum(kv => kv.Key * kv.Value));
        Assert.Equal(sizes.Values.Sum(), batching.GetProperty("model_runs").GetInt64());
        Assert.True(batching.GetProperty("mean_batch").GetDouble() > 1);
        // Two model runs overlap on a CPU of two or more cores (one session, one thread each on two cores).
        Assert.Equal(Environment.ProcessorCount >= 2 ? 2 : 1, batching.GetProperty("instances").GetInt32());
        Assert.Equal(171, stats.GetProperty("frames").GetInt32());
        Assert.Contains("mean batch", r.Stdout);
        Assert.Contains("camera  stalled: 40 frames", r.Stdout);
    }

    [Fact]
    public void On_camera_failure_stop_ends_every_camera_and_finalises_their_recordings()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var json = Path.Combine(dir, "stats.json");
        var r = Engine.Run($"run --source a=synthetic:frames=100000,size=96x72 --source b=synthetic:frames=100000,size=96x72,fail=10 " +
            $"--on-camera-failure stop --record {dir}/{{camera}}.mp4 --stats-json {json}");
        Assert.True(r.Code == 3, r.Stderr);
        Assert.Contains("--on-camera-failure stop ends every camera", r.Stderr);
        var a = Camera(JsonDocument.Parse(File.ReadAllText(json)).RootElement, "a");
        var frames = a.GetProperty("frames").GetInt32();
        Assert.InRange(frames, 1, 99_999);
        Assert.Equal(frames, Engine.Probe(Path.Combine(dir, "a.mp4")).Frames);
    }

    [Theory]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --record out.mp4", "put {camera} in the path")]
    [InlineData("--source a=synthetic:frames=2 --source a=synthetic:frames=3", "two cameras are named 'a'")]
    [InlineData("--source front= --source synthetic:frames=2", "gives no source after '='")]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --publish nats://127.0.0.1:4222 --camera-name x", "drop --camera-name")]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --sync-ms 20 --batch 1", "--batch 1 is smaller than the 2 cameras")]
    [InlineData("--source synthetic:frames=2 --sync-ms 20", "--sync-ms groups the frames of several cameras")]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --on-camera-failure maybe", "use continue or stop")]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --batch 0", "--batch must be between 1 and 64")]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --model-instances 0", "--model-instances must be between 1 and 16")]
    public void Bad_camera_options_are_one_clear_error_and_exit_2(string args, string says)
    {
        var r = Engine.Run("run " + args);
        Assert.Equal(2, r.Code);
        Assert.Contains(says, r.Stderr);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:"));
    }

    [Fact]
    public void A_single_camera_run_keeps_its_summary_and_json_without_camera_fields()
    {
        var json = Engine.Temp("one.json");
        var r = Engine.Run($"run --source synthetic:frames=6,size=96x72 --stats-json {json} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        var stats = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.False(stats.TryGetProperty("cameras", out _));
        Assert.False(stats.TryGetProperty("batching", out _));
        Assert.False(stats.TryGetProperty("camera", out _));
        Assert.Equal(6, stats.GetProperty("frames").GetInt32());
        Assert.DoesNotContain("camera ", r.Stdout);
    }

    [Fact]
    public void A_cameras_file_names_each_camera_with_its_own_source_and_recording()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        File.WriteAllText(Path.Combine(dir, "calib.yaml"),
            "image_width: 96\nimage_height: 72\ncamera_matrix:\n  rows: 3\n  cols: 3\n  data: [80, 0, 47.5, 0, 80, 35.5, 0, 0, 1]\n");
        var fleet = Path.Combine(dir, "cameras.yaml");
        File.WriteAllText(fleet, """
            cameras:
              - name: left
                source: "synthetic:seed=1,frames=5,size=96x72"
                record: left-own.mp4
                intrinsics: calib.yaml
                frame_id: left_optical_frame
              - name: right
                source: "synthetic:seed=2,frames=7,size=96x72"
                realtime: false
            """);
        var json = Path.Combine(dir, "stats.json");
        var r = Engine.Run($"run --cameras {fleet} --record {dir}/{{camera}}-x.mp4 --stats-json {json} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        // The file's own recording path is relative to the file; the other camera follows --record's {camera}.
        Assert.Equal(5, Engine.Probe(Path.Combine(dir, "left-own.mp4")).Frames);
        Assert.Equal(7, Engine.Probe(Path.Combine(dir, "right-x.mp4")).Frames);
        Assert.False(File.Exists(Path.Combine(dir, "left-x.mp4")));
        var stats = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(["left", "right"], stats.GetProperty("cameras").EnumerateArray().Select(c => c.GetProperty("camera").GetString()!).ToArray());

        // A camera without a source, a bad calibration, or --source beside --cameras: exit 2 naming the file.
        File.WriteAllText(Path.Combine(dir, "bad.yaml"), "cameras:\n  - name: a\n    record: a.mp4\n");
        var bad = Engine.Run($"run --cameras {Path.Combine(dir, "bad.yaml")}");
        Assert.Equal(2, bad.Code);
        Assert.Contains("camera 0 has no 'source'", bad.Stderr);
        File.WriteAllText(Path.Combine(dir, "badcal.yaml"),
            "cameras:\n  - name: a\n    source: \"synthetic:frames=2\"\n    intrinsics: nowhere.yaml\n");
        var badCal = Engine.Run($"run --cameras {Path.Combine(dir, "badcal.yaml")}");
        Assert.Equal(2, badCal.Code);
        Assert.Contains("camera a: --intrinsics", badCal.Stderr);
        var both = Engine.Run($"run --cameras {fleet} --source synthetic");
        Assert.Equal(2, both.Code);
        Assert.Contains("give one of them", both.Stderr);
    }

    [Fact]
    public void Layout_grid_records_one_mosaic_of_every_camera()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var grid = Path.Combine(dir, "grid.mp4");
        var r = Engine.Run($"run --source a=synthetic:seed=1,frames=12,size=160x120 --source b=synthetic:seed=2,frames=9,size=96x72 --source " +
            $"c=synthetic:seed=3,frames=10,size=128x96 --layout grid --record {grid}");
        Assert.True(r.Code == 0, r.Stderr);
        // Three cameras: two columns and two rows of 480-wide tiles (4:3 overlays); one mosaic frame per frame of the leader,
        // the first camera still running (a: 12 frames, all it had).
        using (var cap = new VideoCapture(grid))
        {
            Assert.Equal(960, cap.FrameWidth);
            Assert.Equal(720, cap.FrameHeight);
        }
        Assert.Equal(12, Engine.Probe(grid).Frames);
        Assert.Contains($"grid    {grid}: 12 frames, a 960x720 mosaic of 3 cameras", r.Stdout);
        var one = Engine.Run("run --source synthetic:frames=2 --layout grid");
        Assert.Equal(2, one.Code);
        Assert.Contains("--layout grid shows several cameras", one.Stderr);
    }

    [Fact]
    public async Task One_web_page_shows_every_camera_and_metrics_carry_a_camera_label_and_the_batch_sizes()
    {
        var chromium = Engine.Tool("chromium", "chromium");
        var r = await Engine.ServeAsync("run --source front=synthetic:seed=1,frames=100000,size=160x120 --source " +
            "rear=synthetic:seed=2,frames=100000,size=96x72 "
            + "--source side=synthetic:seed=3,frames=100000,size=128x96 --realtime --layout overlay --serve 127.0.0.1:0", async (p, ports) =>
        {
            try
            {
                using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
                await using var browser = await playwright.Chromium.LaunchAsync(new()
                {
                    ExecutablePath = chromium, Headless = true,
                    Args = ["--no-sandbox", "--disable-gpu"]
                });
                var page = await browser.NewPageAsync();
                await page.GotoAsync($"http://127.0.0.1:{ports.Web}/");
                // Every camera has its own live picture on the page, at its own size, and its own figures.
                foreach (var (name, width) in new[] { ("front", 160), ("rear", 96), ("side", 128) })
                {
                    await page.WaitForFunctionAsync($"document.getElementById('img-{name}') && document.getElementById('img-{name}').naturalWidth " +
                        $"=== {width}");
                    await page.WaitForFunctionAsync($"/ FPS, [1-9]\\d* frames/.test(document.getElementById('st-{name}').textContent)");
                }
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports.Web}") };
                var stats = JsonDocument.Parse(await http.GetStringAsync("/api/stats")).RootElement;
                Assert.Equal(["front", "rear", "side"], stats.GetProperty("cameras").EnumerateArray().Select(c
                    => c.GetProperty("camera").GetString()!).ToArray());
                Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/stream/nobody.mjpg")).StatusCode);
                var metrics = await http.GetStringAsync("/metrics");
                foreach (var name in new[] { "front", "rear", "side" })
                {
                    Assert.Contains($"rtmtl_frames_total{{camera=\"{name}\"}}", metrics);
                    Assert.Contains($"rtmtl_stage_latency_seconds_count{{stage=\"model\",camera=\"{name}\"}}", metrics);
                }
                Assert.Matches(@"rtmtl_batch_size_count [1-9]", metrics);
                Assert.Matches("rtmtl_batch_size_bucket\\{le=\"3(\\.0)?\"\\} [1-9]", metrics);
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
    }

    [Fact]
    public async Task Foxglove_has_topics_per_camera_each_with_its_own_frame_id()
    {
        var node = Engine.Tool("node", "nodejs");
        var foxDir = Path.Combine(Engine.Root, "tests", "clients", "foxglove");
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        (int Code, string Output) client = (-1, "");
        var r = await Engine.ServeAsync("run --source front=synthetic:seed=1,frames=100000,size=160x120 --source " +
            "rear=synthetic:seed=2,frames=100000,size=96x72 --realtime --foxglove 127.0.0.1:0", async (p, ports) =>
        {
            // The independent npm client (@foxglove/ws-protocol) subscribes to the rear camera's labels and depth.
            try { client = await Task.Run(() => ServingTests.RunTool(node, $"receive.mjs ws://127.0.0.1:{ports.Foxglove} {work} 3 /rear", foxDir)); }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
        Assert.True(client.Code == 0, client.Output);
        var topics = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "channels.json"))).RootElement.EnumerateArray().Select(c
            => c.GetProperty("topic").GetString()!).ToHashSet();
        foreach (var camera in new[] { "front", "rear" })
            foreach (var topic in new[] { "image", "labels", "depth", "camera_info", "points" }) Assert.Contains($"/{camera}/{topic}", topics);
        Assert.Contains("/rtmtl/classes", topics);
        // Every message on the rear camera's topics says it is the rear camera's, and its images are the rear camera's size.
        Assert.All(File.ReadAllLines(Path.Combine(work, "frame_ids.txt")), id => Assert.Equal("rear_optical_frame", id));
        Assert.All(Directory.GetFiles(work, "labels_*.bin"), f => Assert.Equal(96 * 72, new FileInfo(f).Length));
    }

    [Fact]
    public async Task The_feed_names_each_frames_camera_and_a_set_subscriber_gets_whole_sets_within_the_window()
    {
        const string python = "/usr/bin/python3";
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        var json = Path.Combine(work, "stats.json");
        (int Code, string Output) all = (-1, ""), rear = (-1, ""), sets = (-1, "");
        var r = await Engine.ServeAsync("run --source front=synthetic:seed=1,frames=100000,size=160x120,fps=5 --source " +
            "rear=synthetic:seed=2,frames=100000,size=96x72,fps=5 "
            + $"--source side=synthetic:seed=3,frames=100000,size=128x96,fps=5 --realtime --sync-ms 100 --feed 127.0.0.1:0 --stats-json {json}",
                async (p, ports) =>
        {
            try
            {
                // The shipped example client, three ways: every camera, one camera, and whole synchronised sets.
                var address = $"127.0.0.1:{ports.Feed}";
                var a = Task.Run(() => ServingTests.RunTool(python, FeedClient.Args(address, Path.Combine(work, "all"), 9)));
                var b = Task.Run(() => ServingTests.RunTool(python, FeedClient.Args(address, Path.Combine(work, "rear"), 3, "--camera rear")));
                var c = Task.Run(() => ServingTests.RunTool(python, FeedClient.Args(address, Path.Combine(work, "sets"), 3, "--sets")));
                (all, rear, sets) = (await a, await b, await c);
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
        Assert.True(all.Code == 0, all.Output);
        Assert.True(rear.Code == 0, rear.Output);
        Assert.True(sets.Code == 0, sets.Output);
        JsonElement Header(string f) => JsonDocument.Parse(File.ReadAllText(f)).RootElement;
        // Every frame names its camera, with that camera's frame id and camera info.
        var headers = Directory.GetFiles(Path.Combine(work, "all"), "header_*.json").Select(Header).ToList();
        Assert.Equal(["front", "rear", "side"], headers.Select(h => h.GetProperty("camera").GetString()!).Distinct().Order().ToArray());
        Assert.All(headers, h => Assert.Equal(h.GetProperty("camera").GetString() + "_optical_frame", h.GetProperty("frame_id").GetString()));
        Assert.All(headers, h => Assert.True(h.GetProperty("has_camera_info").GetBoolean()));
        Assert.All(Directory.GetFiles(Path.Combine(work, "rear"), "header_*.json").Select(Header), h => Assert.Equal("rear",
            h.GetProperty("camera").GetString()));
        // A set holds every camera's frame of one moment; its stamps lie within the 100 ms window (half the cameras' 200 ms interval).
        var lines = File.ReadAllLines(Path.Combine(work, "sets", "sets.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        foreach (var set in lines)
        {
            var frames = set.GetProperty("frames").EnumerateArray().ToList();
            Assert.Equal(["front", "rear", "side"], frames.Select(f => f.GetProperty("camera").GetString()!).ToArray());
            var stamps = frames.Select(f => f.GetProperty("stamp_unix_ns").GetInt64()).ToList();
            Assert.Equal(stamps.Max() - stamps.Min(), set.GetProperty("stamp_spread_ns").GetInt64());
            Assert.InRange(set.GetProperty("stamp_spread_ns").GetInt64(), 0, 100_000_000);
            Assert.All(frames, f => Assert.True(f.GetProperty("has_camera_info").GetBoolean()));
        }
        var batching = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("batching");
        Assert.True(batching.GetProperty("sets").GetInt64() >= 3);
        Assert.Equal(100, batching.GetProperty("sync_ms").GetDouble());
        Assert.Equal(["front", "rear", "side"], batching.GetProperty("incomplete_sets").EnumerateObject().Select(p => p.Name).Order().ToArray());
    }
}
