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
}
