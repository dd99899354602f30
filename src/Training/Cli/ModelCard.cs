using System.Globalization;
using System.Text;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

internal static class ModelCard
{
    public static string Write(string file, MtlNet net, RunManifest m, LabelSet labels, EvalResult? ort, EvalResult? baseline, int majority,
        double meanDepth, double latencyMs, string? command)
    {
        var c = m.Config;
        var o = m.Options;
        var sb = new StringBuilder();
        sb.AppendLine($"# {file}: {c.ArchitectureName}, {ModelConfig.BackboneName(c.Backbone)} (output stride {c.OutputStride})");
        sb.AppendLine();
        sb.AppendLine($"Joint semantic segmentation ({labels.Count} classes, {labels.Name}) and depth estimation (metres, 0-{c.MaxDepth} m), input " +
            $"{c.InputWidth}x{c.InputHeight} BGR uint8, {net.ParameterCount / 1e6:0.00} M parameters.");
        sb.AppendLine();
        sb.AppendLine("## Data");
        sb.AppendLine(DatasetFactory.IsSynthetic(o.Dataset)
            ? $"The procedural synthetic indoor RGB-D world " +
                "(src/Capture/Synthetic" + (o.Dataset == "synthetic-dr"
                    ? ", domain-randomised: random surfaces, 1-4 coloured lights with soft shadows, clutter, field of view 50-75 degrees, " +
                        "camera height, pitch and roll, blur, noise, vignetting, white balance and JPEG"
                    : "") +
                $"), seed {o.Seed}: {o.TrainSamples} training stills, {o.ValSamples} validation and {o.ValSamples} test stills from disjoint " +
                "room index ranges. Exact depth and NYU-13 labels. No real images were used: accuracy on real cameras is not measured."
            : $"{o.Dataset} from {o.DataPath}.");
        sb.AppendLine();
        sb.AppendLine("## Recipe");
        sb.AppendLine($"{o.Optimizer} lr {o.LearningRate} (poly {o.PolyPower}), weight decay {o.WeightDecay}, batch {o.BatchSize}, {o.Epochs} " +
            $"epochs, loss {o.SegWeight} x cross-entropy (ignore 255) + {o.DepthWeight} x L1 on valid depth, augmentation " +
                $"{(o.Augment ? "zoom 1-1.4 (depth / zoom), flip, colour jitter" : "off")}, selective weights initialised self {o.SwSelf} / cross " +
                    $"{o.SwCross}, CPU.");
        sb.AppendLine();
        sb.AppendLine("Produced by:");
        sb.AppendLine("```");
        sb.AppendLine(command ?? $"./rtmtl train --arch {o.Architecture} --backbone {o.Backbone} --dataset {o.Dataset} --epochs {o.Epochs} --batch " +
            $"{o.BatchSize} --lr {o.LearningRate.ToString(CultureInfo.InvariantCulture)} --seed {o.Seed} --out {o.OutDir}");
        sb.AppendLine($"./rtmtl export --run {o.OutDir} --out models/{file}");
        sb.AppendLine("```");
        sb.AppendLine();
        if (ort is not null && baseline is not null)
        {
            sb.AppendLine($"## Test split ({ort.Samples} synthetic stills, ONNX Runtime, this file)");
            sb.AppendLine();
            sb.AppendLine("| | mIoU | pixel acc. | RMSE (m) | log RMSE | abs rel | delta<1.25 |");
            sb.AppendLine("|---|---|---|---|---|---|---|");
            sb.AppendLine($"| this model | {TrainingCli.P(ort.MeanIoU)} | {TrainingCli.P(ort.PixelAccuracy)} | {TrainingCli.F(ort.Rmse)} | " +
                $"{TrainingCli.F(ort.LogRmse)} | {TrainingCli.F(ort.AbsRel)} | {TrainingCli.P(ort.Delta1)} |");
            sb.AppendLine($"| trivial: majority class ({labels.Classes[majority]}) / mean depth ({meanDepth:0.00} m) | " +
                $"{TrainingCli.P(baseline.MeanIoU)} | {TrainingCli.P(baseline.PixelAccuracy)} | {TrainingCli.F(baseline.Rmse)} | " +
                    $"{TrainingCli.F(baseline.LogRmse)} | {TrainingCli.F(baseline.AbsRel)} | {TrainingCli.P(baseline.Delta1)} |");
            sb.AppendLine();
            sb.AppendLine($"CPU latency (ONNX Runtime, batch 1, {c.InputWidth}x{c.InputHeight}, median of 30 runs on this 2-core machine): " +
                $"{latencyMs:0.0} ms.");
            sb.AppendLine();
        }
        sb.AppendLine("## Contract");
        sb.AppendLine("Input `image` uint8 [N,H,W,3] BGR; outputs `labels` uint8 [N,H,W], `depth` float32 [N,H,W] metres, `confidence` float32 " +
            "[N,H,W]; metadata `rtmtl.*` (see `./rtmtl info` on this file).");
        return sb.ToString();
    }
}
