namespace RealtimeMtl.Cli.Tests;

public class BenchSmokeTests
{
    [Fact]
    public void Bench_runs_on_50_frames_and_writes_self_explaining_json()
    {
        var json = Engine.Temp("bench.json");
        var r = Engine.Run($"bench --frames 50 --json {json}");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("model-only FPS", r.Stdout);
        Assert.Contains("pipeline efficiency", r.Stdout);
        var root = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        var pipeline = root.GetProperty("pipeline");
        Assert.True(root.GetProperty("model").GetProperty("fps").GetDouble() > 0);
        foreach (var key in new[] { "fps", "efficiency", "managed_bytes_per_frame" })
            Assert.True(pipeline.GetProperty(key).GetDouble() > 0, $"pipeline.{key} not positive");
        Assert.True(root.GetProperty("peak_working_set_mib").GetDouble() > 0);
        Assert.True(pipeline.GetProperty("stages").GetProperty("model").GetProperty("p50_ms").GetDouble() > 0);
        Assert.NotEmpty(pipeline.GetProperty("top_allocated_types").EnumerateArray());
        // Peers in the same run: OpenCV DNN reads the same file and agrees on the labels; TorchSharp eager ran (rtmtl-train bench-eager).
        var peers = root.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        foreach (var name in new[] { "opencv_dnn", "torchsharp_eager" })
        {
            Assert.False(peers[name].TryGetProperty("problem", out var problem), $"{name}: {problem} {r.Stderr}");
            Assert.True(peers[name].GetProperty("fps").GetDouble() > 0);
            Assert.True(peers[name].GetProperty("onnx_runtime_speedup").GetDouble() > 0);
        }
        Assert.True(peers["opencv_dnn"].GetProperty("label_agreement").GetDouble() > 0.99);
        Assert.Contains("MTL_SSW resnet18-slim-os32 256x192", peers["torchsharp_eager"].GetProperty("architecture").GetString());
        // Every measured frame was recorded (no timing assertions: figures are reported, not judged).
        Assert.Equal(50, pipeline.GetProperty("recorded_frames").GetInt64());
    }

    [Fact]
    public void Bench_cameras_reads_each_child_runs_summary_into_the_table_and_json()
    {
        // Two cameras, 12 frames each: one camera, then batched, one instance, --batch 1 and two processes, unpaced and paced; the figures come from
        // the children's snake_case summaries, so a renamed field fails here, not on a user's machine.
        var json = Engine.Temp("cameras.json");
        var r = Engine.Run($"bench --cameras 2 --frames 12 --fps 15 --json {json}");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("| 2 | batched | no |", r.Stdout);
        var root = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        // Per pacing: the one-camera baseline, then batched, batched on one model instance, --batch 1 and two processes.
        Assert.Equal(10, rows.Count);
        Assert.Equal(["batched", "batched", "batched, 1 instance", "batch 1", "2 processes"], rows.Take(5).Select(x
            => x.GetProperty("mode").GetString()));
        Assert.Equal(1, root.GetProperty("trials").GetInt32());
        foreach (var row in rows)
        {
            Assert.Equal(12 * row.GetProperty("cameras").GetInt32(), row.GetProperty("frames").GetInt64() + row.GetProperty("dropped").GetInt64());
            Assert.True(row.GetProperty("aggregate_fps").GetDouble() > 0);
            Assert.True(double.IsFinite(row.GetProperty("e2e_p99_ms").GetDouble()) && row.GetProperty("e2e_p99_ms").GetDouble() > 0);
        }
        Assert.Equal(2.0, rows.First(x => x.GetProperty("cameras").GetInt32() == 2 && x.GetProperty("mode").GetString() == "batched"
            && !x.GetProperty("paced").GetBoolean())
            .GetProperty("mean_batch").GetDouble(), 1);
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Bench_device_records_what_was_asked_what_ran_and_the_warm_up()
    {
        var json = Engine.Temp("bench-cuda.json");
        var r = Engine.Run($"bench --device cuda --no-peers --model-only --frames 5 --json {json}");
        Assert.True(r.Code == 0, r.Stderr);
        // No GPU here: one fallback line, then the figures say which device really ran.
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("requested but"));
        var root = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        var device = root.GetProperty("device");
        Assert.Equal("cuda", device.GetProperty("requested").GetString());
        Assert.Equal("cpu", device.GetProperty("used").GetString());
        Assert.Equal(Engine.GpuFlavour ? "gpu" : "cpu", device.GetProperty("onnx_runtime_build").GetString());
        Assert.True(root.GetProperty("model").GetProperty("warm_up_ms").GetDouble() > 0);
        Assert.InRange(root.GetProperty("model").GetProperty("warm_up_runs").GetInt32(), 2, 20);
        Assert.False(root.TryGetProperty("pipeline", out _), "--model-only runs no pipeline");
        Assert.Contains("| device asked / used | cuda / cpu", r.Stdout);
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public void Bench_rejects_an_unknown_device_with_one_line_and_exit_2()
    {
        var r = Engine.Run("bench --device quantum --model-only --frames 1");
        Assert.Equal(2, r.Code);
        Assert.Equal("error: unknown device 'quantum'; use cpu, cuda, tensorrt or auto", r.Stderr.Trim());
    }
}
