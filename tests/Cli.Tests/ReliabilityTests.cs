using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RealtimeMtl.Render;
using RealtimeMtl.Render.Drawing;
using RealtimeMtl.Sinks;
using RealtimeMtl.Sinks.Recording;

namespace RealtimeMtl.Cli.Tests;

/// <summary>Faults, shutdown and long runs: nothing processed is lost, the engine says what happened once.</summary>
public class ReliabilityTests
{

    /// <summary>A camera that is unplugged after some frames.</summary>
    private sealed class DyingCamera(int framesBeforeDeath) : IFrameSource
    {
        public string Description => "camera test0";
        public bool IsLive => true;
        public double? NominalFps => 30;
        public long? FrameCount => null;

        public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            for (var i = 0; i < framesBeforeDeath; i++)
            {
                await Task.Delay(33, cancellationToken); // its nominal 30 FPS
                yield return new Frame(i, Stopwatch.GetTimestamp(), new Mat(72, 96, MatType.CV_8UC3, Scalar.All(i * 5)));
            }
            throw new SourceException("camera test0 stopped delivering frames (unplugged?); reconnect it and start again.");
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_camera_that_disappears_mid_run_ends_the_run_with_one_error_and_a_playable_recording_of_every_frame()
    {
        using var model = new OnnxMtlModel(Engine.ShippedModel);
        using var renderer = new FrameRenderer(model.Info, new RenderOptions());
        var path = Engine.Temp("unplugged.avi");
        var recorder = new VideoRecorderSink(path, fps: null);
        var events = new CollectingEvents();
        var summary = await TestPipelines.Create(new DyingCamera(40), model, renderer, [recorder], new PipelineOptions(), events).RunAsync();
        await recorder.DisposeAsync();
        Assert.Contains("unplugged", summary.SourceError);
        Assert.Single(events.Warnings, w => w.Contains("camera test0"));
        // Every processed frame is in the file, or counted as skipped where it came early for the 30 FPS time grid.
        Assert.Equal(summary.Frames, recorder.FramesWritten + recorder.FramesSkipped);
        Assert.True(recorder.FramesWritten >= summary.Frames - 2, $"{recorder.FramesSkipped} of {summary.Frames} skipped");
        Assert.Equal((int)recorder.FramesInFile, Engine.Probe(path).Frames);
        Assert.Equal(40, summary.Frames + summary.DroppedAtSource);
    }

    private static Process ServeTestPattern(int port, string size) =>
        Process.Start(new ProcessStartInfo(Engine.Tool("ffmpeg", "ffmpeg"),
            $"-v error -re -f lavfi -i testsrc=size={size}:rate=20 -c:v mpeg2video -g 5 -f mpegts tcp://127.0.0.1:{port}?listen=1")
        { RedirectStandardError = true, RedirectStandardInput = true })!;

    [Fact]
    public async Task A_stream_that_comes_back_at_another_resolution_keeps_running_and_records_every_frame_at_the_first_size()
    {
        var port = Engine.FreePort();
        var server = ServeTestPattern(port, "160x120");
        var record = Engine.Temp("resized.avi");
        var raw = Path.Combine(Path.GetDirectoryName(record)!, "raw");
        try
        {
            for (var i = 0; i < 100 && !Engine.IsListening(port); i++) await Task.Delay(50);
            var r = await Engine.RunWatchingAsync($"run --source tcp://127.0.0.1:{port} --record {record} --save-raw {raw} --max-frames 90", async (_,
                stderr) =>
            {
                await Engine.Until(() => Engine.RawFrames(raw) >= 20, "20 frames at the first size");
                server.Kill(true);
                await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                await Engine.Until(() => stderr().Contains("dropped after frame"), "the engine to notice the drop");
                server = ServeTestPattern(port, "240x180");
            });
            Assert.True(r.Code == 0, r.Stderr);
            Assert.Contains("dropped after frame", r.Stderr);
            Assert.Contains("240x180", r.Stderr.Split('\n').Single(l => l.Contains("back after")));
            var frames = Engine.SummaryFrames(r.Stdout);
            var (recorded, _) = Engine.Probe(record);
            // Live: every processed frame once, the outage kept as repeated frames on the time grid.
            var (inFile, written) = Engine.Recorded(r.Stdout);
            Assert.Equal(frames, written);
            Assert.Equal(inFile, recorded);
            using (var v = new VideoCapture(record))
                Assert.Equal((3 * 160, 120), (v.FrameWidth, v.FrameHeight));
            // The frames after the stream came back at 240x180 were scaled to the recording's size, and the summary says how many.
            Assert.Matches(@"record  .*, [1-9]\d* of another size scaled", r.Stdout);
            // Raw outputs follow the stream: the first frames at 160x120, the last ones at 240x180.
            var labels = Directory.GetFiles(raw, "*_labels.png").Order().ToArray();
            Assert.Equal(frames, labels.Length);
            using (var first = Cv2.ImRead(labels[0], ImreadModes.Unchanged)) Assert.Equal(new Size(160, 120), first.Size());
            using (var last = Cv2.ImRead(labels[^1], ImreadModes.Unchanged)) Assert.Equal(new Size(240, 180), last.Size());
        }
        finally
        {
            if (!server.HasExited) server.Kill(true);
        }
    }

    [Fact]
    public async Task No_ffmpeg_reader_outlives_the_engine_after_a_forced_exit_or_a_sigterm()
    {
        var ffmpeg = Engine.Tool("ffmpeg", "ffmpeg");
        foreach (var signals in new[] { new[] { 2, 2 }, new[] { 15 } })
        {
            var port = Engine.FreePort();
            var url = $"udp://127.0.0.1:{port}";
            using var sender = Process.Start(new ProcessStartInfo(ffmpeg,
                $"-v error -re -f lavfi -i testsrc=size=160x120:rate=20 -c:v mpeg2video -g 5 -f mpegts {url}?pkt_size=1316")
            { RedirectStandardError = true, RedirectStandardInput = true })!;
            try
            {
                var r = await Engine.RunAsync($"run --source {url}", async p =>
                {
                    // Frames flow (the readiness line), so the ffmpeg reader is up; the 30 ms are the gap between two presses.
                    foreach (var sig in signals) { Signals.Send(p.Id, sig); await Task.Delay(30); }
                }, timeoutMs: 60_000);
                Assert.True(r.Code is 0 or 130, $"exit {r.Code}: {r.Stderr}");
                // The reader is gone within a moment: not left with PID 1 as its parent until its own timeout (5 s).
                int Readers() => Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)).Count(d =>
                {
                    try
                    {
                        var cmd = File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' '); return cmd.Contains("ffmpeg")
                        && cmd.Contains($"-i {url}");
                    }
                    catch (IOException) { return false; }
                });
                var readers = Readers();
                for (var i = 0; i < 20 && readers > 0; i++) { await Task.Delay(100); readers = Readers(); }
                Assert.True(readers == 0, $"{readers} ffmpeg reader(s) of {url} outlived the engine (signals {string.Join(",", signals)})");
            }
            finally { if (!sender.HasExited) sender.Kill(true); }
        }
    }

    [Fact]
    public async Task Sigterm_stops_gracefully_and_a_second_sigint_forces_exit()
    {
        var record = Engine.Temp("sigterm.mp4");
        var r = await Engine.RunAsync($"run --source synthetic:frames=100000,size=96x72 --record {record} --realtime", async p =>
        {
            Signals.Send(p.Id, 15); // after the readiness line: frames are being recorded
        });
        Assert.Equal(0, r.Code);
        Assert.Equal(Engine.SummaryFrames(r.Stdout), Engine.Recorded(r.Stdout).Processed);
        Assert.Equal(Engine.Recorded(r.Stdout).InFile, Engine.Probe(record).Frames);

        // A run stuck in a slow sink: the first Ctrl+C asks it to drain, the second exits at once (130).
        var forced = await Engine.RunAsync("run --source synthetic:frames=100000,size=96x72 --realtime", async p =>
        {
            Signals.Send(p.Id, 2);
            await Task.Delay(50); // a second press, 50 ms after the first
            Signals.Send(p.Id, 2);
        }, timeoutMs: 30_000);
        Assert.True(forced.Code is 130 or 0, forced.Stderr);
        if (forced.Code == 130) Assert.Contains("forced exit", forced.Stderr);
    }

    [Fact]
    public async Task A_disk_that_fills_during_raw_output_faults_that_sink_once_and_the_recording_stays_complete()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var small = Path.Combine(dir, "small");
        Directory.CreateDirectory(small);
        var mounted = Process.Start("mount", $"-t tmpfs -o size=200k tmpfs {small}") is { } m && m.WaitForExit(10_000) && m.ExitCode == 0;
        try
        {
            var record = Path.Combine(dir, "full.mp4");
            if (mounted)
            {
                var r = await Engine.RunAsync($"run --source synthetic:frames=60,size=160x120 --record {record} --save-raw {small}/raw", null);
                // A sink that failed during the run: exit 3, the others finished.
                Assert.True(r.Code == 3, r.Stderr);
                Assert.Single(r.Stderr.Split('\n'), l => l.Contains("sink raw failed"));
                Assert.Contains("No space left", r.Stderr);
                Assert.DoesNotContain("libpng", r.Stderr); // OpenCV's native messages stay off stderr
                Assert.Contains("fault   sink raw: 1 error(s)", r.Stdout);
                Assert.Equal(60, Engine.Probe(record).Frames);
            }
            else
            {
                // No tmpfs here (not root): the same fault simulated at the writer.
                using var model = new OnnxMtlModel(Engine.ShippedModel);
                using var renderer = new FrameRenderer(model.Info, new RenderOptions());
                var recorder = new VideoRecorderSink(record, 30);
                await using var source = new Capture.Synthetic.SyntheticSource(new Capture.Synthetic.SyntheticOptions
                {
                    Frames = 60, Width = 160,
                    Height = 120
                });
                var summary = await TestPipelines.Create(source, model, renderer, [new FullDiskSink(), recorder], new PipelineOptions(),
                    new CollectingEvents()).RunAsync();
                await recorder.DisposeAsync();
                Assert.Equal(1, summary.SinkErrors["raw"]);
                Assert.Equal(60, Engine.Probe(record).Frames);
            }
        }
        finally
        {
            if (mounted) Process.Start("umount", small)?.WaitForExit(10_000);
        }
    }

    private sealed class FullDiskSink : IFrameSink
    {
        public string Name => "raw";
        public bool Lossless => true;
        public ValueTask WriteAsync(FramePacket packet, CancellationToken ct) => packet.Sequence >= 5
            ? throw new IOException("No space left on device") : ValueTask.CompletedTask;
        public ValueTask CompleteAsync() => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_stalled_web_viewer_and_a_vanished_feed_subscriber_never_stop_the_engine()
    {
        var r = await Engine.ServeAsync($"run --source synthetic:frames=100000,size=96x72 --realtime --serve 127.0.0.1:0 --feed 127.0.0.1:0",
            async (p, ports) =>
        {
            var (web, feed) = (ports.Web, ports.Feed);
            try
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{web}") };
                // A viewer that opens the stream and never reads it.
                using var stalled = await http.GetAsync("/stream.mjpg", HttpCompletionOption.ResponseHeadersRead);
                // A subscriber that takes frames, then is killed mid-stream.
                var client = Process.Start(new ProcessStartInfo("/usr/bin/python3", FeedClient.Args($"127.0.0.1:{feed}",
                    Path.GetDirectoryName(Engine.Temp("g"))!, 100000))
                {
                    WorkingDirectory = Engine.Root, RedirectStandardOutput = true,
                    RedirectStandardError = true
                })!;
                // The subscriber prints a line per frame it takes ("#N ..."); kill it once it has taken some.
                var taken = 0;
                client.OutputDataReceived += (_, e) => { if (e.Data?.StartsWith('#') == true) Interlocked.Increment(ref taken); };
                client.BeginOutputReadLine();
                client.BeginErrorReadLine();
                await Engine.Until(() => Volatile.Read(ref taken) >= 10, "the subscriber to take 10 frames");
                client.Kill(true);
                var before = Frames(await http.GetStringAsync("/api/stats"));
                var after = before;
                await Engine.Until(() => (after = Frames(http.GetStringAsync("/api/stats").GetAwaiter().GetResult())) > before + 10,
                    "10 more frames after the subscriber died");
                Assert.True(after > before + 10, $"frames {before} -> {after}: the engine must keep going");
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
        Assert.DoesNotContain("fault", r.Stdout);
    }

    private static long Frames(string statsJson) => JsonDocument.Parse(statsJson).RootElement.GetProperty("frames").GetInt64();

    [Fact]
    public async Task Short_soak_with_every_sink_keeps_memory_handles_and_live_frames_flat()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var stats = Path.Combine(dir, "soak.json");
        var r = await Engine.RunAsync(
            $"run --source synthetic:frames=1200,size=96x72 --record {dir}/soak.mp4 --save-raw {dir}/raw --save-pointcloud {dir}/ply --every 100 " +
                $"--serve 127.0.0.1:0 --feed 127.0.0.1:0 --foxglove 127.0.0.1:0 --stats-json {stats} --quiet", null);
        Assert.True(r.Code == 0, r.Stderr);
        var samples = JsonDocument.Parse(File.ReadAllText(stats)).RootElement.GetProperty("resources").EnumerateArray()
            .Select(e => (Frame: e.GetProperty("frame").GetInt64(), Ws: e.GetProperty("working_set_mib").GetDouble(),
                Handles: e.GetProperty("handles").GetInt32(), Live: e.GetProperty("live_packets").GetInt64())).ToList();
        Assert.True(samples.Count >= 10);
        var warm = samples[3];
        var end = samples[^1];
        Assert.Equal(0, end.Live);
        Assert.All(samples, s => Assert.True(s.Live <= 16, $"live frames {s.Live} at {s.Frame}"));
        Assert.True(end.Handles <= warm.Handles + 8, $"handles {warm.Handles} -> {end.Handles}");
        Assert.True(end.Ws < warm.Ws * 1.3, $"working set {warm.Ws:0} -> {end.Ws:0} MiB");
    }

    /// <summary>
    /// A contract-valid model that fails at run time on bright frames: a Gather whose index is the image's maximum
    /// divided by 200 (0 on dark frames, 1 on bright ones) into a one-element table. Written with Debian's python3-onnx.
    /// </summary>
    private static string ModelFailingOnBrightFrames()
    {
        var path = Engine.Temp("fails-when-bright.onnx");
        var script = """
            import sys, onnx
            from onnx import helper as h, TensorProto as T
            H, W = 24, 32
            nodes = [
                h.make_node("Cast", ["image"], ["f"], to=T.FLOAT),
                h.make_node("ReduceMax", ["f"], ["mx"], keepdims=0),
                h.make_node("Div", ["mx", "k200"], ["q"]),
                h.make_node("Cast", ["q"], ["idx"], to=T.INT64),
                h.make_node("Gather", ["table", "idx"], ["bias"], axis=0),
                h.make_node("Slice", ["f", "s0", "e1", "ax3"], ["b"]),
                h.make_node("Squeeze", ["b", "ax3"], ["bsq"]),
                h.make_node("Greater", ["bsq", "t127"], ["gt"]),
                h.make_node("Cast", ["gt"], ["labels"], to=T.UINT8),
                h.make_node("Div", ["bsq", "k25"], ["d0"]),
                h.make_node("Add", ["d0", "bias"], ["depth"]),
                h.make_node("Mul", ["d0", "zero"], ["c0"]),
                h.make_node("Add", ["c0", "one"], ["confidence"]),
            ]
            inits = [
                h.make_tensor("k200", T.FLOAT, [], [200.0]), h.make_tensor("table", T.FLOAT, [1], [0.0]),
                h.make_tensor("s0", T.INT64, [1], [0]), h.make_tensor("e1", T.INT64, [1], [1]), h.make_tensor("ax3", T.INT64, [1], [3]),
                h.make_tensor("t127", T.FLOAT, [], [127.0]), h.make_tensor("k25", T.FLOAT, [], [25.5]),
                h.make_tensor("zero", T.FLOAT, [], [0.0]), h.make_tensor("one", T.FLOAT, [], [1.0]),
            ]
            g = h.make_graph(nodes, "fails_when_bright", [h.make_tensor_value_info("image", T.UINT8, ["N", H, W, 3])],
                [h.make_tensor_value_info("labels", T.UINT8, ["N", H, W]), h.make_tensor_value_info("depth", T.FLOAT, ["N", H, W]),
                 h.make_tensor_value_info("confidence", T.FLOAT, ["N", H, W])], inits)
            m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
            m.ir_version = 8
            for k, v in {"rtmtl.architecture": "fails-when-bright", "rtmtl.classes": "dark,bright", "rtmtl.palette": "#000000,#ff0000",
                         "rtmtl.input_size": f"{W}x{H}", "rtmtl.depth_range": "0,10"}.items():
                e = m.metadata_props.add(); e.key = k; e.value = v
            onnx.save(m, sys.argv[1])
            """;
        var scriptPath = Engine.Temp("make_failing_model.py");
        File.WriteAllText(scriptPath, script);
        using var p = Process.Start(new ProcessStartInfo(Engine.Tool("python3", "python3-onnx"), [scriptPath,
            path])
        { RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
        return path;
    }

    [Fact]
    public async Task An_inference_failure_mid_file_ends_the_run_with_one_line_naming_the_stage_finalises_the_recording_and_exits_3()
    {
        var folder = Path.Combine(Path.GetDirectoryName(Engine.Temp("x"))!, "dark-then-bright");
        Directory.CreateDirectory(folder);
        // Three dark frames the model handles, then bright ones that make it fail; an image folder is a file source,
        // so the capture stage waits for room in its channel: before the fix it waited forever.
        for (var i = 0; i < 40; i++)
        {
            using var img = new Mat(72, 96, MatType.CV_8UC3, i < 3 ? new Scalar(40, 40, 40) : new Scalar(250, 250, 250));
            Cv2.ImWrite(Path.Combine(folder, $"{i:D3}.png"), img);
        }
        var record = Engine.Temp("failing.mp4");
        var stats = Engine.Temp("failing.json");
        var r = await Engine.RunAsync($"run --source {folder} --model {ModelFailingOnBrightFrames()} --record {record} --stats-json {stats} --quiet",
            null, timeoutMs: 60_000);
        Assert.True(r.Code == 3, $"exit {r.Code}\n{r.Stderr}");
        var errors = r.Stderr.Split('\n').Where(l => l.StartsWith("error:")).ToList();
        Assert.Single(errors);
        Assert.Contains("the infer stage failed at frame 3", errors[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
        // Every frame processed before the fault is in a playable recording, and the JSON names the fault.
        Assert.Equal(3, Engine.SummaryFrames(r.Stdout));
        Assert.Equal(3, Engine.Probe(record).Frames);
        Assert.Contains("infer stage failed", JsonDocument.Parse(File.ReadAllText(stats)).RootElement.GetProperty("stage_error").GetString());
    }
}
