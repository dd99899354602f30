using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Inference;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Quality;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// rtmtl eval --video (the video mode of <see cref="EvalCommand"/>): label-free quality of a model on real footage, where no ground truth exists. On
/// a static
/// camera a good model is steady: few pixels change class from frame to frame (flicker) and depth hardly moves.
/// </summary>
internal static class EvalVideoCommand
{
    public sealed record VideoQuality(string Video, string Model, string Smooth, int Frames, double LabelFlicker, double LabelFlickerAlongFlow,
        double DepthRelativeChange, Dictionary<string, double> ClassShares, Dictionary<string, double> DepthPercentilesM)
    {
        /// <summary>Against ground truth, where the source has it (synthetic): mIoU, depth RMSE (m), label error within 3 px of a boundary.</summary>
        [System.Text.Json.Serialization.JsonPropertyName("mean_iou")]
        public double? MeanIoU { get; init; }
        public double? DepthRmse { get; init; }
        public double? BoundaryError { get; init; }

        public string ToText()
        {
            var c = CultureInfo.InvariantCulture;
            var lines = new List<string>
            {
                string.Create(c, $"video   {Video}: {Frames} frames, model {Model}, --smooth {Smooth}"),
                string.Create(c, $"flicker {LabelFlicker * 100:0.00} % of pixels change class per frame; "
                    + $"along the optical flow {LabelFlickerAlongFlow * 100:0.00} %"),
                string.Create(c, $"depth   median relative change per frame {DepthRelativeChange * 100:0.00} %; percentiles " +
                    $"{string.Join(", ", DepthPercentilesM.Select(kv => $"{kv.Key} {kv.Value:0.00} m"))}"),
                "classes " + string.Join(", ", ClassShares.Where(kv => kv.Value >= 0.005).OrderByDescending(kv => kv.Value).Select(kv
                    => string.Create(c, $"{kv.Key} {kv.Value * 100:0.0} %"))),
            };
            if (MeanIoU is { } miou)
                lines.Add(string.Create(c, $"truth   mIoU {miou * 100:0.00} %, depth RMSE {DepthRmse:0.0000} m, "
                    + $"label error within 3 px of boundaries {BoundaryError * 100:0.00} %"));
            return string.Join('\n', lines);
        }
    }

    /// <summary>
    /// Runs the engine on the footage (the one composition path, <see cref="EngineRunner"/>) with a
    /// <see cref="StabilitySink"/>; the engine's own summary is not printed, its errors are (exit 2, 3).
    /// </summary>
    public static async Task<(int Code, VideoQuality? Result)> RunAsync(string video, string modelPath, int maxFrames, SmoothMode smooth,
        TextWriter errors, CancellationToken ct)
    {
        var settings = new EngineSettings
        {
            Source = video, Cameras = [new NamedSource("cam0", video)], ModelPath = modelPath, MaxFrames = maxFrames,
            Smooth = smooth, Quiet = true
        };
        StabilitySink? stability = null;
        var hooks = new EngineHooks { Sinks = info => [stability = new StabilitySink(info.Labels.Classes)] };
        var code = await EngineRunner.RunAsync(settings, TextWriter.Null, errors, ct, hooks);
        if (code != 0 || stability is null) return (code, null);
        if (stability.Frames < 2) throw new ArgumentException($"'{video}' gave {stability.Frames} frame(s); flicker needs at least two.");
        var (flicker, depthChange, shares, depths) = stability.Figures();
        var truth = stability.Accuracy;
        return (0, new VideoQuality(video, Path.GetFileName(modelPath), SmoothModes.Name(smooth), stability.Frames, flicker, stability.FlowFlicker,
            depthChange, shares, depths)
        {
            MeanIoU = truth?.MeanIoU, DepthRmse = truth?.DepthRmse, BoundaryError = truth?.BoundaryError,
        });
    }
}
