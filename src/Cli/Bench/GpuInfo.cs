using System.Diagnostics;

namespace RealtimeMtl.Cli.Bench;

/// <summary>The NVIDIA GPU's name from nvidia-smi, where it is installed; null elsewhere.</summary>
public static class GpuInfo
{
    public static string? Name()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name,driver_version --format=csv,noheader")
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (p is null) return null;
            var text = p.StandardOutput.ReadToEnd().Trim();
            if (!p.WaitForExit(5000) || p.ExitCode != 0 || text.Length == 0) return null;
            var first = text.Split('\n')[0].Split(',');
            return first.Length == 2 ? $"{first[0].Trim()} (driver {first[1].Trim()})" : first[0].Trim();
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
