using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using RealtimeMtl.Cli.Bench;
using RealtimeMtl.Inference;
using RealtimeMtl.Inference.Host;

namespace RealtimeMtl.Cli.Doctor;

/// <summary>
/// What this machine can and cannot do for the engine and for training, each finding with its fix: CPU and the
/// oneDNN decision (asked of rtmtl-train, which owns LibTorch), ONNX Runtime, CUDA/cuDNN/TensorRT libraries, the
/// NVIDIA GPU, ffmpeg's H.264 encoders, a display for --show, video devices and free space for runs/.
/// </summary>
public static class MachineDoctor
{
    /// <summary>The libraries ONNX Runtime's GPU providers load, by the names the dynamic loader looks for.</summary>
    public static readonly (string Library, string What)[] GpuLibraries =
    [
        ("libcudart.so.13", "CUDA 13 runtime"),
        ("libcublas.so.13", "cuBLAS 13"),
        ("libcublasLt.so.13", "cuBLASLt 13"),
        ("libcurand.so.10", "cuRAND"),
        ("libcudnn.so.9", "cuDNN 9"),
        ("libnvinfer.so.10", "TensorRT 10"),
    ];

    public static IReadOnlyList<DoctorCheck> Run(string runsDir = "runs", string devRoot = "/dev")
    {
        var checks = new List<DoctorCheck>();
        var cpu = CpuFacts.Read();
        checks.Add(new("cpu", "processor", DoctorStatus.Ok, $"{cpu.Model}, {cpu.LogicalCores} logical cores, best vector ISA {cpu.BestIsa}"));
        checks.Add(cpu.HasCacheInfo
            ? new("cpu", "cache information", DoctorStatus.Ok, $"present ({cpu.CachePath})")
            : new("cpu", "cache information", DoctorStatus.Note,
                $"missing ({cpu.CachePath}): a virtual machine that hides it; LibTorch's oneDNN is unsafe here",
                "nothing to do: rtmtl-train caps oneDNN at SSE41 by itself (see the oneDNN line)"));
        checks.Add(OneDnn());

        var ort = OrtEnv.Instance();
        var providers = ort.GetAvailableProviders();
        checks.Add(new("inference", "ONNX Runtime", DoctorStatus.Ok,
            $"{ort.GetVersionString()} ({(ExecutionProviders.IsGpuBuild ? "GPU" : "CPU")} build); providers: {string.Join(", ", providers)}",
            ExecutionProviders.IsGpuBuild ? null : "for --device cuda/tensorrt build the GPU flavour: ./rtmtl build --gpu, then RTMTL_GPU=1 " +
                "./rtmtl run ..."));
        var gpu = GpuInfo.Name();
        foreach (var (lib, what) in GpuLibraries)
        {
            var found = NativeLibrary.TryLoad(lib, out var handle);
            if (found) NativeLibrary.Free(handle);
            checks.Add(found
                ? new("gpu", lib, DoctorStatus.Ok, $"{what}: found")
                : new("gpu", lib, gpu is null ? DoctorStatus.Note : DoctorStatus.Missing, $"{what}: not found by the dynamic loader",
                    lib.StartsWith("libnvinfer") ? "only for --device tensorrt: install TensorRT 10 and add its lib folder to LD_LIBRARY_PATH"
                        : "only for --device cuda/tensorrt: install the CUDA 13 runtime and cuDNN 9, or add their lib folders to LD_LIBRARY_PATH"));
        }
        checks.Add(gpu is not null
            ? new("gpu", "NVIDIA GPU", DoctorStatus.Ok, gpu)
            : new("gpu", "NVIDIA GPU", DoctorStatus.Note, "none found (nvidia-smi missing or no device)",
                "the engine runs on the CPU; a GPU needs the NVIDIA driver"));

        checks.AddRange(Ffmpeg(gpu is not null));
        var display = Environment.GetEnvironmentVariable("DISPLAY") is { Length: > 0 } d ? $"X11 DISPLAY={d}"
            : Environment.GetEnvironmentVariable("WAYLAND_DISPLAY") is { Length: > 0 } w ? $"Wayland {w}" : null;
        checks.Add(display is not null
            ? new("output", "display for --show", DoctorStatus.Ok, display)
            : new("output", "display for --show", DoctorStatus.Note, "none (no DISPLAY or WAYLAND_DISPLAY)",
                "--show needs a desktop session; use --serve (browser) or --record here"));
        var cams = Directory.Exists(devRoot) ? Directory.GetFiles(devRoot, "video*").Order(StringComparer.Ordinal).ToArray() : [];
        checks.Add(cams.Length > 0
            ? new("input", "video devices", DoctorStatus.Ok, string.Join(", ", cams))
            : new("input", "video devices", DoctorStatus.Note, $"none ({devRoot}/video* absent)",
                "a camera needs /dev/videoN (in a container: --device /dev/video0); files, streams and the synthetic source work without"));
        checks.AddRange(Ros2());
        checks.Add(Disk(runsDir));
        return checks;
    }

    private static DoctorCheck OneDnn()
    {
        var trainer = TorchEagerPeer.FindTrainer();
        if (trainer is null)
            return new("cpu", "oneDNN (training)", DoctorStatus.Missing, "rtmtl-train is not built, so LibTorch was not checked", "./rtmtl build");
        try
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { trainer, "onednn", "--json" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(4)))
            {
                p.Kill(true); return new("cpu", "oneDNN (training)", DoctorStatus.Missing,
                "rtmtl-train onednn did not answer in 4 minutes");
            }
            p.WaitForExit();
            var line = stdout.Result.Split('\n').LastOrDefault(l => l.StartsWith('{'));
            if (p.ExitCode != 0 || line is null)
                return new("cpu", "oneDNN (training)", DoctorStatus.Missing,
                    $"rtmtl-train onednn failed (exit {p.ExitCode}): {stderr.Result.Trim().Split('\n').LastOrDefault()}",
                        "./rtmtl build, then ./rtmtl doctor again");
            using var doc = JsonDocument.Parse(line);
            var isa = doc.RootElement.GetProperty("max_isa").GetString();
            var cause = doc.RootElement.GetProperty("cause").GetString();
            return isa is null
                ? new("cpu", "oneDNN (training)", DoctorStatus.Ok, $"uncapped: {cause}")
                : new("cpu", "oneDNN (training)", DoctorStatus.Note, $"capped to {isa}: {cause}",
                    "none needed: training is correct, at about half the speed (docs/onednn.md)");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or JsonException or KeyNotFoundException)
        {
            return new("cpu", "oneDNN (training)", DoctorStatus.Missing, $"could not ask rtmtl-train: {e.Message}");
        }
    }

    /// <summary>ROS 2 over DDS: Cyclone's library and the engine's shim, the domain and the network settings in force.</summary>
    private static IEnumerable<DoctorCheck> Ros2()
    {
        var why = RealtimeMtl.Ros2.Dds.CycloneDds.WhyUnavailable;
        yield return why is null
            ? new("ros2", "Cyclone DDS", DoctorStatus.Ok,
                $"libddsc {RealtimeMtl.Ros2.Dds.CycloneDds.Version}, shim {RealtimeMtl.Ros2.Dds.CycloneDds.ShimPath}")
            : new("ros2", "Cyclone DDS", DoctorStatus.Note, $"not usable: {why}",
                "only for --ros2 and ros2: sources: " + RealtimeMtl.Ros2.Dds.CycloneDds.InstallLine);
        var domain = Environment.GetEnvironmentVariable("ROS_DOMAIN_ID");
        yield return new("ros2", "ROS_DOMAIN_ID", DoctorStatus.Ok, string.IsNullOrWhiteSpace(domain) ? "unset (domain 0)" : domain);
        var uri = Environment.GetEnvironmentVariable("CYCLONEDDS_URI");
        yield return string.IsNullOrWhiteSpace(uri)
            ? new("ros2", "CYCLONEDDS_URI", DoctorStatus.Note, "unset: Cyclone picks a network interface and discovers peers by multicast",
                "on a robot's LAN that is usually right; docs/robots.md shows how to pin the interface or list unicast peers")
            : new("ros2", "CYCLONEDDS_URI", DoctorStatus.Ok, uri.Length > 160 ? uri[..160] + "..." : uri);
    }

    private static IEnumerable<DoctorCheck> Ffmpeg(bool hasGpu)
    {
        var ffmpeg = RealtimeMtl.Common.Commands.ExternalTools.Find("ffmpeg");
        if (ffmpeg is null)
        {
            yield return new("output", "ffmpeg", DoctorStatus.Missing,
                "not on PATH: recordings fall back to MPEG-4 Part 2 through OpenCV, network streams cannot be read",
                "sudo apt-get install ffmpeg");
            yield break;
        }
        var version = RunTool(ffmpeg, "-hide_banner -version").Split('\n')[0].Replace("ffmpeg version ", "");
        var encoders = RunTool(ffmpeg, "-hide_banner -encoders");
        yield return new("output", "ffmpeg", DoctorStatus.Ok, $"{ffmpeg} ({version.Split(' ')[0]})");
        foreach (var (enc, what) in new[] { ("libx264", "H.264 on the CPU (recordings browsers play)"), ("h264_nvenc", "H.264 on an NVIDIA GPU") })
        {
            var has = encoders.Split('\n').Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var name, ..] && name == enc);
            if (has && enc == "h264_nvenc" && !hasGpu)
                yield return new("output", enc, DoctorStatus.Note, $"{what}: in this ffmpeg build, but there is no NVIDIA GPU to run it",
                    "none: libx264 is used");
            else yield return has
                ? new("output", enc, DoctorStatus.Ok, $"{what}: available")
                : new("output", enc, enc == "libx264" ? DoctorStatus.Missing : DoctorStatus.Note, $"{what}: not in this ffmpeg build",
                    enc == "libx264" ? "install Debian's ffmpeg (it has libx264)"
                        : "needs an ffmpeg built with NVENC and an NVIDIA driver; libx264 is used instead");
        }
    }

    private static DoctorCheck Disk(string runsDir)
    {
        var at = Directory.Exists(runsDir) ? runsDir : ".";
        try
        {
            var drive = new DriveInfo(Path.GetFullPath(at));
            var free = drive.AvailableFreeSpace / (1024.0 * 1024 * 1024);
            var detail = $"{free:0.0} GiB free for {Path.GetFullPath(runsDir)}";
            return free < 1
                ? new("output", "disk space", DoctorStatus.Missing, detail,
                    "free some space: a minute of 640x480 H.264 with raw outputs takes tens of MB")
                : new("output", "disk space", DoctorStatus.Ok, detail);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return new("output", "disk space", DoctorStatus.Missing, $"could not read free space for {runsDir}: {e.Message}");
        }
    }

    private static string RunTool(string tool, string args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(tool, args)
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false
            })!;
            var err = p.StandardError.ReadToEndAsync();
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit(10_000);
            return text + err.Result;
        }
        catch (System.ComponentModel.Win32Exception) { return ""; }
    }
}
