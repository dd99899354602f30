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
        foreach (var key in new[] { "model.fps", "pipeline.fps", "pipeline.efficiency", "managed.bytes_per_frame", "memory.peak_working_set_mib", "stage.model.p50_ms" })
            Assert.True(root.TryGetProperty(key, out var v) && v.GetDouble() > 0, $"{key} missing or not positive");
        // Peers in the same run: OpenCV DNN reads the same file and agrees on the labels; TorchSharp eager ran (rtmtl-train bench-eager).
        foreach (var key in new[] { "peers.opencv_dnn.fps", "peers.opencv_dnn.speedup_of_onnxruntime", "peers.torchsharp_eager.fps", "peers.torchsharp_eager.speedup_of_onnxruntime" })
            Assert.True(root.TryGetProperty(key, out var v) && v.GetDouble() > 0, $"{key} missing or not positive: {r.Stdout} {r.Stderr}");
        Assert.True(root.GetProperty("peers.opencv_dnn.label_agreement").GetDouble() > 0.99);
        Assert.Contains("MTL_SSW resnet18-slim-os32 256x192", root.GetProperty("peers.torchsharp_eager.architecture").GetString());
        // Every measured frame was recorded (no timing assertions: figures are reported, not judged).
        Assert.Equal(50, root.GetProperty("pipeline.recorded_frames").GetInt64());
    }

    [Fact]
    public void Bench_device_records_what_was_asked_what_ran_and_the_warm_up()
    {
        var json = Engine.Temp("bench-cuda.json");
        var r = Engine.Run($"bench --device cuda --no-peers --model-only --frames 5 --json {json}");
        Assert.True(r.Code == 0, r.Stderr);
        // No GPU here: one fallback line, then the figures say which device really ran.
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("requested but"));
        var root = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal("cuda", root.GetProperty("device.requested").GetString());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        Assert.Equal(Engine.GpuFlavour ? "gpu" : "cpu", root.GetProperty("onnxruntime.build").GetString());
        Assert.True(root.GetProperty("warmup.ms").GetDouble() > 0);
        Assert.InRange(root.GetProperty("warmup.runs").GetDouble(), 2, 20);
        Assert.Contains("| device asked / used | cuda / cpu", r.Stdout);
    }

    [Fact]
    public void Bench_rejects_an_unknown_device_with_one_line_and_exit_2()
    {
        var r = Engine.Run("bench --device quantum --model-only --frames 1");
        Assert.Equal(2, r.Code);
        Assert.Equal("error: unknown device 'quantum'; use cpu, cuda, tensorrt or auto", r.Stderr.Trim());
    }
}
