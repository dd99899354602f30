using System.Globalization;
using RealtimeMtl.Cli.Commands;
using RealtimeMtl.Distributed.Jobs;

namespace RealtimeMtl.Cli.Distributed;

/// <summary>
/// A job's options as the <c>rtmtl run</c> options they stand for. The worker reads a job's settings through them
/// (<see cref="EngineOptionSet.ReadArgs"/>), and submit checks a job with them before queueing it: one validation,
/// so a job the CLI would refuse is refused with the CLI's own words.
/// </summary>
public static class JobArguments
{
    /// <summary>The options of <paramref name="o"/> that are the user's (not the paths the worker chooses).</summary>
    public static List<string> For(JobOptions o)
    {
        var args = new List<string> { "--layout", o.Layout };
        if (o.MaxFrames is { } max) args.AddRange(["--max-frames", max.ToString(CultureInfo.InvariantCulture)]);
        if (o.DepthRange is { } range) args.AddRange(["--depth-range", range]);
        if (o.Smooth) args.AddRange(["--smooth", "flow"]);
        if (o.Realtime) args.Add("--realtime");
        return args;
    }

    /// <summary>The settings of <paramref name="o"/> over <paramref name="source"/>, checked as <c>rtmtl run</c> checks them.</summary>
    public static EngineSettings Read(string source, JobOptions o, params string[] more) =>
        EngineOptionSet.ReadArgs([.. new[] { "--source", source }, .. For(o), .. more]);
}
