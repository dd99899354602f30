using System.Diagnostics;

namespace RealtimeMtl.Distributed.Tests;

/// <summary>Short test videos made by a real ffmpeg, and frame counts read back by ffprobe.</summary>
internal static class Clips
{
    public static string Tool(string name)
    {
        var p = Path.Combine("/usr/bin", name);
        if (!File.Exists(p)) throw new InvalidOperationException($"{name} is missing: install the Debian package 'ffmpeg' (./rtmtl test installs " +
            $"it).");
        return p;
    }

    public static string Make(string path, int frames, int fps = 10, string size = "160x120", string pattern = "testsrc")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Run(Tool("ffmpeg"), $"-v error -y -f lavfi -i {pattern}=size={size}:rate={fps} -frames:v {frames} -pix_fmt yuv420p \"{path}\"");
        return path;
    }

    public static int Frames(string path)
    {
        var output = Run(Tool("ffprobe"), $"-v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{path}\"");
        return int.Parse(output.Trim());
    }

    private static string Run(string exe, string args)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {args} failed: {stderr}");
        return stdout.Result;
    }
}
