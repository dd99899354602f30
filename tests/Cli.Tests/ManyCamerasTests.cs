using System.Text.Json;

namespace RealtimeMtl.Cli.Tests;

/// <summary>Several cameras in one engine: batched inference, per-camera outputs and faults.</summary>
public class ManyCamerasTests
{
    private static JsonElement Camera(JsonElement stats, string name) =>
        stats.GetProperty("Cameras").EnumerateArray().Single(c => c.GetProperty("Camera").GetString() == name);

    [Fact]
    public void Cameras_of_different_sizes_and_rates_are_batched_and_a_stalled_and_a_dead_camera_hold_nobody()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var json = Path.Combine(dir, "stats.json");
        // Three cameras of different sizes and rates, one that stalls for a second and one that dies at frame 20.
        var r = Engine.Run("run --source front=synthetic:seed=1,frames=45,size=320x240 --source rear=synthetic:seed=2,frames=30,size=160x120,fps=15 "
            + "--source synthetic:seed=3,frames=36,size=240x180,fps=20 --source stalled=synthetic:seed=5,frames=40,size=192x144,stall=8:1 "
            + $"--source dead=synthetic:seed=4,frames=80,size=200x150,fail=20 --record {dir}/{{camera}}.mp4 --save-raw {dir}/raw --stats-json {json}");
        // A camera failed: the run says so and exits 3 at the end, after every other camera finished.
        Assert.True(r.Code == 3, r.Stderr);
        Assert.Single(r.Stderr.Split('\n'), l => l.Contains("camera dead: synthetic camera failed at frame 20"));
        var stats = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        foreach (var (name, frames) in new[] { ("front", 45), ("rear", 30), ("cam2", 36), ("stalled", 40), ("dead", 20) })
        {
            var cam = Camera(stats, name);
            Assert.Equal(frames, cam.GetProperty("Frames").GetInt32());
            // Every recording holds exactly its camera's processed frames, and plays (the dead camera's too).
            Assert.Equal(frames, Engine.Probe(Path.Combine(dir, $"{name}.mp4")).Frames);
            Assert.Equal(frames, Directory.GetFiles(Path.Combine(dir, "raw", name), "*.json").Length);
            Assert.True(cam.GetProperty("Stages").GetProperty("end-to-end").GetProperty("P99").GetDouble() > 0);
        }
        Assert.Contains("synthetic camera failed", Camera(stats, "dead").GetProperty("SourceError").GetString());
        Assert.Equal(JsonValueKind.Null, Camera(stats, "front").GetProperty("SourceError").ValueKind);
        // Batched: some model runs took more than one frame, and the runs account for every frame.
        var batching = stats.GetProperty("Batching");
        var sizes = batching.GetProperty("RunsByBatchSize").EnumerateObject().ToDictionary(p => int.Parse(p.Name), p => p.Value.GetInt64());
        Assert.Contains(sizes, kv => kv.Key > 1 && kv.Value > 0);
        Assert.Equal(45 + 30 + 36 + 40 + 20, sizes.Sum(kv => kv.Key * kv.Value));
        Assert.Equal(sizes.Values.Sum(), batching.GetProperty("ModelRuns").GetInt64());
        Assert.True(batching.GetProperty("MeanBatch").GetDouble() > 1);
        Assert.Equal(171, stats.GetProperty("Frames").GetInt32());
        Assert.Contains("mean batch", r.Stdout);
        Assert.Contains("camera  stalled: 40 frames", r.Stdout);
    }

    [Fact]
    public void On_camera_failure_stop_ends_every_camera_and_finalises_their_recordings()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var json = Path.Combine(dir, "stats.json");
        var r = Engine.Run($"run --source a=synthetic:frames=100000,size=96x72 --source b=synthetic:frames=100000,size=96x72,fail=10 --on-camera-failure stop --record {dir}/{{camera}}.mp4 --stats-json {json}");
        Assert.True(r.Code == 3, r.Stderr);
        Assert.Contains("--on-camera-failure stop ends every camera", r.Stderr);
        var a = Camera(JsonDocument.Parse(File.ReadAllText(json)).RootElement, "a");
        var frames = a.GetProperty("Frames").GetInt32();
        Assert.InRange(frames, 1, 99_999);
        Assert.Equal(frames, Engine.Probe(Path.Combine(dir, "a.mp4")).Frames);
    }

    [Theory]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --record out.mp4", "put {camera} in the path")]
    [InlineData("--source a=synthetic:frames=2 --source a=synthetic:frames=3", "two cameras are named 'a'")]
    [InlineData("--source front= --source synthetic:frames=2", "gives no source after '='")]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --serve 127.0.0.1:0", "--serve serves one camera")]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --on-camera-failure maybe", "use continue or stop")]
    [InlineData("--source synthetic:frames=2 --source synthetic:frames=2 --batch 0", "--batch must be between 1 and 64")]
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
        Assert.False(stats.TryGetProperty("Cameras", out _));
        Assert.False(stats.TryGetProperty("Batching", out _));
        Assert.False(stats.TryGetProperty("Camera", out _));
        Assert.Equal(6, stats.GetProperty("Frames").GetInt32());
        Assert.DoesNotContain("camera ", r.Stdout);
    }
}
