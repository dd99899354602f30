using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Quality;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// rtmtl eval --video (the video mode of <see cref="EvalCommand"/>): label-free quality of a model on real footage, where no ground truth exists. On a static
/// camera a good model is steady: few pixels change class from frame to frame (flicker) and depth hardly moves.
/// </summary>
internal static class EvalVideoCommand
{
    public sealed record VideoQuality(string Video, string Model, bool Smooth, int Frames, double LabelFlicker, double DepthRelativeChange,
        Dictionary<string, double> ClassShares, Dictionary<string, double> DepthPercentilesM)
    {
        public string ToText()
        {
            var c = CultureInfo.InvariantCulture;
            var lines = new List<string>
            {
                string.Create(c, $"video   {Video}: {Frames} frames, model {Model}{(Smooth ? ", --smooth" : "")}"),
                string.Create(c, $"flicker {LabelFlicker * 100:0.00} % of pixels change class per frame"),
                string.Create(c, $"depth   median relative change per frame {DepthRelativeChange * 100:0.00} %; percentiles {string.Join(", ", DepthPercentilesM.Select(kv => $"{kv.Key} {kv.Value:0.00} m"))}"),
                "classes " + string.Join(", ", ClassShares.Where(kv => kv.Value >= 0.005).OrderByDescending(kv => kv.Value).Select(kv => string.Create(c, $"{kv.Key} {kv.Value * 100:0.0} %"))),
            };
            return string.Join('\n', lines);
        }
    }

    /// <summary>
    /// Runs the engine on the footage (the one composition path, <see cref="EngineRunner"/>) with a
    /// <see cref="StabilitySink"/>; the engine's own summary is not printed, its errors are (exit 2, 3).
    /// </summary>
    public static async Task<(int Code, VideoQuality? Result)> RunAsync(string video, string modelPath, int maxFrames, bool smooth, TextWriter errors, CancellationToken ct)
    {
        var settings = new EngineSettings { Source = video, Cameras = [new NamedSource("cam0", video)], ModelPath = modelPath, MaxFrames = maxFrames, Smooth = smooth, Quiet = true };
        StabilitySink? stability = null;
        var hooks = new EngineHooks { Sinks = info => [stability = new StabilitySink(info.Labels.Classes)] };
        var code = await EngineRunner.RunAsync(settings, TextWriter.Null, errors, ct, hooks);
        if (code != 0 || stability is null) return (code, null);
        if (stability.Frames < 2) throw new ArgumentException($"'{video}' gave {stability.Frames} frame(s); flicker needs at least two.");
        var (flicker, depthChange, shares, depths) = stability.Figures();
        return (0, new VideoQuality(video, Path.GetFileName(modelPath), smooth, stability.Frames, flicker, depthChange, shares, depths));
    }
}
