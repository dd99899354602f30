using System.Globalization;

namespace RealtimeMtl.Common.Measuring;

/// <summary>Progress lines of long work (engine runs, training, downloads, ablations) and their one ETA format.</summary>
public static class ProgressLine
{
    /// <summary>The engine's live line: frames (of how many, with percentage and ETA when the length is known), rate, latency, drops.</summary>
    public static string Format(long done, long? total, double fps, double e2eMs, long dropped)
    {
        var c = CultureInfo.InvariantCulture;
        var rate = string.Create(c, $"{(double.IsFinite(fps) ? fps : 0):0.0} FPS  e2e {(double.IsFinite(e2eMs) ? e2eMs : 0):0.0} ms  dropped " +
            $"{dropped}");
        if (total is not { } t || t <= 0) return string.Create(c, $"{done} frames  {rate}");
        var share = Math.Clamp((double)done / t, 0, 1);
        var eta = fps > 0 && done < t ? (t - done) / fps : 0;
        return string.Create(c, $"{done} / {t} frames ({share * 100:0} %), ETA {Eta(eta)}  {rate}");
    }

    /// <summary>Time left as m:ss under an hour, h:mm:ss from an hour on; "-" when unknown.</summary>
    public static string Eta(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds < 0) return "-";
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}:{t.Seconds:00}");
    }
}
