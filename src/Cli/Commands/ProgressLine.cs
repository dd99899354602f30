using System.Globalization;

namespace RealtimeMtl.Cli.Commands;

/// <summary>The live progress line: frames (of how many, with percentage and ETA when the length is known), rate, latency, drops.</summary>
public static class ProgressLine
{
    public static string Format(long done, long? total, double fps, double e2eMs, long dropped)
    {
        var c = CultureInfo.InvariantCulture;
        var rate = string.Create(c, $"{(double.IsFinite(fps) ? fps : 0):0.0} FPS  e2e {(double.IsFinite(e2eMs) ? e2eMs : 0):0.0} ms  dropped {dropped}");
        if (total is not { } t || t <= 0) return string.Create(c, $"{done} frames  {rate}");
        var share = Math.Clamp((double)done / t, 0, 1);
        var eta = fps > 0 && done < t ? TimeSpan.FromSeconds((t - done) / fps) : TimeSpan.Zero;
        return string.Create(c, $"{done} / {t} frames ({share * 100:0} %), ETA {(int)eta.TotalMinutes}:{eta.Seconds:00}  {rate}");
    }
}
