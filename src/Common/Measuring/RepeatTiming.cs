using System.Diagnostics;

namespace RealtimeMtl.Common.Measuring;

/// <summary>Rate and percentiles of one action repeated: the model-only figure of rtmtl bench and its peers.</summary>
public readonly record struct RepeatTiming(double Fps, double P50Ms, double P95Ms, int Runs)
{
    /// <summary>Runs <paramref name="action"/> <paramref name="warmup"/> times untimed, then <paramref name="runs"/> times timed.</summary>
    public static RepeatTiming Measure(Action action, int warmup, int runs)
    {
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), "at least one timed run");
        for (var i = 0; i < warmup; i++) action();
        var times = new double[runs];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
        {
            var t = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        }
        var fps = runs / total.Elapsed.TotalSeconds;
        Array.Sort(times);
        return new RepeatTiming(fps, Percentile.OfSorted(times, 0.5), Percentile.OfSorted(times, 0.95), runs);
    }
}
