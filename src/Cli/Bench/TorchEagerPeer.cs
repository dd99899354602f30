using System.Diagnostics;
using System.Text.Json;

namespace RealtimeMtl.Cli.Bench;

/// <summary>
/// The TorchSharp eager peer: runs <c>rtmtl-train bench-eager</c> in a child process (the engine never loads
/// LibTorch) and reads its figures. Found through RTMTL_TRAIN (set by the ./rtmtl script) or beside this build.
/// </summary>
public static class TorchEagerPeer
{
    public static string? FindTrainer()
    {
        if (Environment.GetEnvironmentVariable("RTMTL_TRAIN") is { Length: > 0 } env && File.Exists(env)) return env;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        // .../src/Cli/bin/<Config>/net10.0/ -> .../src/Training/bin/<Config>/net10.0/rtmtl-train.dll
        var config = dir.Parent?.Name;
        for (var d = dir; d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "src", "Training", "bin", config ?? "Release", "net10.0", "rtmtl-train.dll");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Figures keyed torch.*, or an explanation of why the peer could not run.</summary>
    public static (Dictionary<string, JsonElement>? Figures, string? Problem) Run(string modelPath, int frames, int threads, TimeSpan timeout)
    {
        var trainer = FindTrainer();
        if (trainer is null) return (null, "rtmtl-train is not built (./rtmtl build builds it)");
        var json = Path.Combine(Path.GetTempPath(), $"rtmtl-eager-{Environment.ProcessId}.json");
        var psi = new ProcessStartInfo("dotnet", $"\"{trainer}\" bench-eager --model \"{Path.GetFullPath(modelPath)}\" --frames {frames} --threads " +
            $"{threads} --json \"{json}\"")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(true);
            return (null, $"bench-eager took longer than {timeout.TotalSeconds:0} s");
        }
        if (p.ExitCode != 0 || !File.Exists(json))
            return (null, $"bench-eager failed (exit {p.ExitCode}): {stderr.Result.Trim().Split('\n').LastOrDefault()}");
        try
        {
            return (JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(json)), null);
        }
        finally { File.Delete(json); }
    }
}
