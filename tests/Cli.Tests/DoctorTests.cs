namespace RealtimeMtl.Cli.Tests;

/// <summary><c>rtmtl doctor</c>: what the machine can do, each finding with its fix, also as JSON.</summary>
public class DoctorTests
{
    private static Dictionary<string, JsonElement> Checks(Engine.Result r)
    {
        Assert.True(r.Code == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("rtmtl.doctor/1", doc.RootElement.GetProperty("schema").GetString());
        return doc.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.Clone());
    }

    [Fact]
    public void Doctor_reports_cpu_runtime_libraries_ffmpeg_display_cameras_and_disk()
    {
        var checks = Checks(Engine.Run("doctor --json", 300_000));
        foreach (var name in new[] { "processor", "cache information", "oneDNN (training)", "ONNX Runtime", "libcudart.so.13", "libcudnn.so.9",
                     "libnvinfer.so.10", "NVIDIA GPU", "ffmpeg", "libx264", "h264_nvenc", "display for --show", "video devices", "disk space" })
            Assert.True(checks.ContainsKey(name), $"doctor has no '{name}' line");
        Assert.Contains("CPUExecutionProvider", checks["ONNX Runtime"].GetProperty("detail").GetString());
        Assert.Equal("ok", checks["libx264"].GetProperty("status").GetString()); // ./rtmtl test installs Debian's ffmpeg
        Assert.Contains("GiB free", checks["disk space"].GetProperty("detail").GetString());
        // Whatever is not ok says how to fix it.
        foreach (var c in checks.Values.Where(c => c.GetProperty("status").GetString() != "ok"))
            Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("fix").GetString()), $"{c.GetProperty("name")} has no fix");
    }

    [Fact]
    public async Task On_a_machine_without_cache_information_doctor_shows_the_oneDNN_cap_and_why()
    {
        var sys = Directory.CreateTempSubdirectory("rtmtl-sys-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(sys, "devices", "system", "cpu", "cpu0"));
            var r = await Engine.RunAsync("doctor --json", null, 300_000, new Dictionary<string, string> { ["RTMTL_SYSFS_ROOT"] = sys });
            var checks = Checks(r);
            Assert.Equal("note", checks["cache information"].GetProperty("status").GetString());
            var onednn = checks["oneDNN (training)"].GetProperty("detail").GetString()!;
            Assert.StartsWith("capped to SSE41", onednn);
            Assert.Contains("no CPU cache information", onednn);

            var text = await Engine.RunAsync("doctor", null, 300_000, new Dictionary<string, string> { ["RTMTL_SYSFS_ROOT"] = sys });
            Assert.Contains("oneDNN (training)    capped to SSE41", text.Stdout);
        }
        finally { Directory.Delete(sys, true); }
    }
}
