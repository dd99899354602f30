using System.Runtime.InteropServices;

namespace RealtimeMtl.Cli.Tests;

public class EndToEndTests
{
    [Trait("Flavour", "gpu")]
    [Fact]
    public void A_video_file_through_the_engine_records_the_same_frame_count_and_rate()
    {
        var ffmpeg = Engine.Tool("ffmpeg", "ffmpeg");
        var input = Engine.Temp("in.mp4");
        var p = Process.Start(ffmpeg, $"-y -v error -f lavfi -i testsrc=size=160x120:rate=15 -frames:v 45 -c:v mpeg4 {input}");
        p.WaitForExit();
        var output = Path.Combine(Path.GetDirectoryName(input)!, "out.mp4");
        var r = Engine.Run($"run --source {input} --record {output} --layout side --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        var (frames, fps) = Engine.Probe(output);
        Assert.Equal(45, frames);
        Assert.Equal(15, fps, 2);
        Assert.Equal(45, Engine.SummaryFrames(r.Stdout));
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Demo_records_a_playable_walk_and_prints_fps_latency_and_quality()
    {
        var record = Engine.Temp("demo.mp4");
        var stats = Path.ChangeExtension(record, ".json");
        var r = Engine.Run($"demo --frames 60 --record {record} --stats-json {stats}");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Matches(@"rate\s+\d+(\.\d)? FPS", r.Stdout);
        Assert.Matches(@"latency end-to-end p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms", r.Stdout);
        Assert.Contains("mIoU", r.Stdout);
        Assert.Equal(60, Engine.Probe(record).Frames);
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(stats)).RootElement;
        Assert.Equal(60, json.GetProperty("frames").GetInt64());
        Assert.True(json.GetProperty("mean_iou").GetDouble() > 0.3, "the shipped model should segment the synthetic walk well");
    }

    [Fact]
    public void Raw_outputs_hold_labels_depth_in_millimetres_and_timestamps_per_frame()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var raw = Path.Combine(dir, "raw");
        var r = Engine.Run($"run --source synthetic:frames=5,size=160x120 --save-raw {raw} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        for (var i = 0; i < 5; i++)
        {
            using var labels = Cv2.ImRead(Path.Combine(raw, $"{i:D6}_labels.png"), ImreadModes.Unchanged);
            using var depth = Cv2.ImRead(Path.Combine(raw, $"{i:D6}_depth.png"), ImreadModes.Unchanged);
            Assert.Equal(MatType.CV_8UC1, labels.Type());
            Assert.Equal(MatType.CV_16UC1, depth.Type());
            Assert.Equal(new Size(160, 120), depth.Size());
            Cv2.MinMaxLoc(depth, out double lo, out double hi);
            Assert.InRange(hi, 500, 10000); // metres * 1000 for an indoor room
            var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(raw, $"{i:D6}.json"))).RootElement;
            Assert.Equal(i, json.GetProperty("sequence").GetInt64());
            Assert.True(json.GetProperty("render_end_ms").GetDouble() >= json.GetProperty("capture_ms").GetDouble());
        }
        Assert.Empty(Directory.GetFiles(raw, "*.tmp*"));
    }

    [Fact]
    public async Task Sigint_during_recording_leaves_a_playable_file_holding_every_processed_frame()
    {
        var record = Engine.Temp("sigint.mp4");
        var raw = Path.Combine(Path.GetDirectoryName(record)!, "raw");
        var r = await Engine.RunAsync($"run --source synthetic:frames=100000,size=160x120 --record {record} --save-raw {raw} --realtime", async p =>
        {
            await Engine.Until(() => Engine.RawFrames(raw) >= 10, "10 processed frames");
            Assert.True(Signals.Send(p.Id, Signals.SIGINT)); // SIGINT
        });
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("stopping", r.Stderr);
        var processed = Engine.SummaryFrames(r.Stdout);
        Assert.True(processed > 5, r.Stdout);
        // Every processed frame is in the file (live: on the time grid, gaps filled by repeats).
        var (inFile, written) = Engine.Recorded(r.Stdout);
        Assert.Equal(processed, written);
        Assert.Equal(inFile, Engine.Probe(record).Frames);
    }


    [Trait("Flavour", "gpu")]
    [Fact]
    public void Strict_device_refuses_the_fallback_with_exit_2_and_writes_nothing()
    {
        var record = Engine.Temp("strict.mp4");
        var r = Engine.Run($"run --source synthetic:frames=3,size=96x72 --device cuda --strict-device --record {record} --quiet");
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Stderr}");
        var last = r.Stderr.Trim().Split('\n')[^1];
        Assert.StartsWith("error: --device cuda could not start here", last);
        Assert.Contains("--strict-device", last);
        Assert.False(File.Exists(record));
        // CPU asked for strictly: nothing to refuse.
        Assert.Equal(0, Engine.Run("run --source synthetic:frames=2,size=96x72 --device cpu --strict-device --quiet").Code);
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Cuda_on_this_cpu_machine_falls_back_with_exactly_one_line_naming_what_is_missing_and_no_onnxruntime_log()
    {
        var r = Engine.Run("run --source synthetic:frames=3,size=96x72 --device cuda --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Nothing else on stderr: no ONNX Runtime log lines, no second note.
        Assert.True(lines.Length == 1, r.Stderr);
        Assert.Contains("--device cuda requested but", lines[0]);
        Assert.Contains("running on CPU", lines[0]);
        if (Engine.GpuFlavour)
        {
            // The GPU build has the CUDA provider but this machine has no CUDA libraries: name the library and the fix.
            Assert.Matches(@"CUDA could not start \(lib[\w.]+\.so[\d.]* not found\)", lines[0]);
            Assert.Contains("CUDA 13 and cuDNN 9", lines[0]);
            Assert.DoesNotContain("./rtmtl build --gpu", lines[0]);
        }
        else
        {
            Assert.Contains("CUDA is not in this ONNX Runtime build", lines[0]);
            Assert.Contains("./rtmtl build --gpu", lines[0]);
        }
        Assert.Contains("model   mtl_ssw_light.onnx on cpu", r.Stdout);
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Warm_up_is_reported_on_its_own_in_the_summary_and_the_json_and_is_in_no_statistic()
    {
        var json = Engine.Temp("warm.json");
        var r = Engine.Run($"run --source synthetic:frames=12,size=96x72 --quiet --stats-json {json}");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Matches(@"warm-up \d+ ms over \d+ runs before the source opened", r.Stdout);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        var runs = root.GetProperty("warm_up_runs").GetInt32();
        Assert.InRange(runs, 2, 20);
        Assert.True(root.GetProperty("warm_up_ms").GetDouble() > 0);
        // The model stage saw exactly the processed frames: no warm-up run was counted in it.
        Assert.Equal(root.GetProperty("frames").GetInt64(), root.GetProperty("stages").GetProperty("model").GetProperty("count").GetInt64());
    }

    [Theory]
    [InlineData("run --source /nonexistent/clip.mp4", "/nonexistent/clip.mp4")]
    [InlineData("run --source 57", "camera 57")]
    [InlineData("run --source http:// ", "malformed")]
    [InlineData("run --source synthetic --model /nonexistent/m.onnx", "/nonexistent/m.onnx")]
    [InlineData("run --source synthetic --alpha 3", "--alpha")]
    [InlineData("run --source synthetic --record /nonexistent/dir/out.mp4", "/nonexistent/dir")]
    [InlineData("run --source synthetic --layout grid", "layout")]
    [InlineData("run --source synthetic --token abcdefgh12", "--token")]
    [InlineData("run --source synthetic --max-frames 0", "--max-frames")]
    [InlineData("run --source synthetic --serve 127.0.0.1:99999", "port")]
    public void Bad_input_is_one_clear_error_with_a_nonzero_exit_and_no_stack_trace(string args, string named)
    {
        var r = Engine.Run(args);
        Assert.Equal(2, r.Code);
        var errorLines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
        Assert.Single(errorLines);
        Assert.Contains(named, errorLines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void Garbage_named_mp4_is_a_clear_error()
    {
        var path = Engine.Temp("garbage.mp4");
        File.WriteAllBytes(path, Enumerable.Range(0, 40000).Select(i => (byte)(i * 31 % 253)).ToArray());
        var r = Engine.Run($"run --source {path}");
        Assert.NotEqual(0, r.Code);
        Assert.Contains(path, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Info_shows_the_contract_metadata_and_model_card()
    {
        var r = Engine.Run("info");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("contract   ok", r.Stdout);
        Assert.Contains("MTL_SSW", r.Stdout);
        Assert.Contains("bed, books, ceiling", r.Stdout);
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Info_json_gives_the_same_contract_and_metadata_to_scripts()
    {
        var r = Engine.Run("info --json");
        Assert.True(r.Code == 0, r.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        Assert.Equal("MTL_SSW", root.GetProperty("architecture").GetString());
        Assert.Equal("bed", root.GetProperty("classes")[0].GetString());
        var shape = root.GetProperty("contract").GetProperty("input").GetProperty("shape");
        Assert.Equal("N", shape[0].GetString());
        Assert.Equal(3, shape[3].GetInt32());
        Assert.StartsWith("rtmtl.", root.GetProperty("metadata").EnumerateObject().First().Name);
    }

    [Fact]
    public void Help_teaches_with_examples_for_webcam_file_rtsp_and_rgbd()
    {
        var r = Engine.Run("run --help");
        Assert.Equal(0, r.Code);
        foreach (var s in new[] { "--source 0", ".mp4", "rtsp://", "tum:", "--device", "--record" }) Assert.Contains(s, r.Stdout);
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Version_names_the_engine_its_commit_onnx_runtime_and_the_providers()
    {
        var r = Engine.Run("--version");
        Assert.True(r.Code == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^rtmtl \d+\.\d+\.\d+ \(commit [0-9a-f]{7,12}\)$", lines[0].Trim());
        Assert.Matches(@"^ONNX Runtime 1\.\d+\.\d+ \((CPU|GPU) build\); providers: .*CPUExecutionProvider", lines[1].Trim());
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Info_takes_the_model_as_an_option_like_the_other_commands()
    {
        var r = Engine.Run($"info -m {Path.Combine(Engine.Root, "models", "mtl_ssw_light.int8.onnx")}");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("mtl_ssw_light.int8.onnx", r.Stdout.Split('\n')[0]);
    }
}
