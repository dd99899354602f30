using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using RealtimeMtl.Capture.Labels;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Onnx;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

internal static class ExportCommand
{
    public static Command Build()
    {
        var run = new Option<string?>("--run") { Description = "Run directory of a training run" };
        var onnx = new Option<string?>("--onnx") { Description = "Instead of --run: an exported float model to rewrite with --precision" };
        var precision = new Option<string>("--precision") { Description = "fp32 (default), fp16 (for GPUs) or int8 (QDQ, calibrated on training frames, for CPUs); fp16/int8 need --onnx", DefaultValueFactory = _ => "fp32" };
        var calibration = new Option<int>("--calibration-frames") { Description = "INT8: synthetic training frames to calibrate activation ranges on", DefaultValueFactory = _ => 64 };
        var testSamples = new Option<int>("--test-samples") { Description = "fp16/int8: synthetic test stills to compare fp32 and the new file on", DefaultValueFactory = _ => 200 };
        var untrained = new Option<string?>("--untrained") { Description = "Instead of --run: export a freshly initialised network of this architecture (for timing only), e.g. --untrained mtl_ssw --size paper" };
        var size = new Option<string>("--size") { Description = "With --untrained: light or paper", DefaultValueFactory = _ => "light" };
        var tiled = new Option<bool>("--tiled-weights") { Description = "With --untrained: each weight tensor repeats one seeded random block, so the file compresses (gzip) for carrying to a GPU machine; timing does not depend on weight values" };
        var ckpt = new Option<string?>("--checkpoint") { Description = "Checkpoint (default: the run's best.pt)" };
        var output = new Option<string>("--out") { Description = "ONNX file to write; a model card NAME.md is written beside it", Required = true };
        var noEval = new Option<bool>("--no-eval") { Description = "Skip the test-split evaluation and latency measurement (no metrics in the card)" };
        var command = new Option<string?>("--command") { Description = "The command that trained the run, for the model card" };
        var cmd = new Command("export", """
            Export a trained run to ONNX under the engine's model contract (uint8 BGR image in; labels, depth, confidence out;
            BatchNorm folded; rtmtl.* metadata), evaluate it on the test split with ONNX Runtime, measure its CPU latency,
            and write a model card.
            Examples:
              ./rtmtl export --run runs/shipped --out models/mtl_ssw_light.onnx
              ./rtmtl export --onnx models/mtl_ssw_light.onnx --precision int8 --out models/mtl_ssw_light.int8.onnx
              ./rtmtl export --onnx models/mtl_ssw_light.onnx --precision fp16 --out out/mtl_ssw_light.fp16.onnx
              ./rtmtl export --untrained mtl_ssw --size paper --out out/mtl_ssw_paper.onnx      (timing only)
            """) { run, onnx, precision, calibration, testSamples, untrained, size, tiled, ckpt, output, noEval, command };
        cmd.SetAction(r =>
        {
            var sources = new[] { r.GetValue(run), r.GetValue(onnx), r.GetValue(untrained) }.Count(v => v is not null);
            if (sources != 1) throw new ArgumentException("give exactly one of --run (a training run), --onnx (a float model to rewrite) or --untrained (an architecture)");
            if (r.GetValue(onnx) is { } onnxPath)
                return PrecisionExport.Run(onnxPath, r.GetValue(output)!, r.GetValue(precision)!, r.GetValue(calibration), r.GetValue(testSamples), r.GetValue(command), r.GetValue(noEval));
            if (r.GetValue(precision) != "fp32")
                throw new ArgumentException("--precision fp16/int8 rewrites an exported model: export the float model first, then run export --onnx FILE --precision ...");
            if (r.GetValue(untrained) is { } arch) return ExportUntrained(arch, r.GetValue(size)!, r.GetValue(output)!, r.GetValue(tiled));
            var (net, manifest) = RunLoader.Load(r.GetValue(run)!, r.GetValue(ckpt));
            var c = manifest.Config;
            var labels = manifest.Options.Dataset switch { "synthetic" or "synthetic-dr" => LabelSet.Nyu13, "sunrgbd" => LabelSet.SunRgbd37, _ => LabelSet.Nyu40 };
            var outPath = r.GetValue(output)!;
            OutputFolder.EnsureParent(outPath, "--out");
            var recipe = new Dictionary<string, string>
            {
                ["optimizer"] = manifest.Options.Optimizer.ToString().ToLowerInvariant(), ["lr"] = manifest.Options.LearningRate.ToString(CultureInfo.InvariantCulture),
                ["schedule"] = $"poly {manifest.Options.PolyPower}", ["epochs"] = manifest.Options.Epochs.ToString(CultureInfo.InvariantCulture),
                ["batch"] = manifest.Options.BatchSize.ToString(CultureInfo.InvariantCulture), ["seed"] = manifest.Options.Seed.ToString(CultureInfo.InvariantCulture),
                ["loss"] = $"{manifest.Options.SegWeight} x CE(ignore 255) + {manifest.Options.DepthWeight} x L1(valid depth)",
                ["train_samples"] = DatasetFactory.IsSynthetic(manifest.Options.Dataset) ? manifest.Options.TrainSamples.ToString(CultureInfo.InvariantCulture) : "split file",
            };
            Dictionary<string, double>? metrics = null;
            EvalResult? ort = null, baseline = null;
            int majority = 0; double meanDepth = 0, latencyMs = double.NaN;
            var bytes = ModelExporter.Export(net, new ExportInfo { Labels = labels, Dataset = manifest.Options.Dataset, Recipe = recipe });
            if (!r.GetValue(noEval))
            {
                var test = DatasetFactory.Open(manifest.Options, Split.Test, c.InputWidth, c.InputHeight);
                var train = DatasetFactory.Open(manifest.Options, Split.Train, c.InputWidth, c.InputHeight);
                ort = OrtEvaluation.Evaluate(bytes, test, c.NumClasses);
                (baseline, majority, meanDepth) = Evaluator.Baselines(train, test, c.NumClasses, limit: 400);
                latencyMs = OrtEvaluation.MedianLatencyMs(bytes, c.InputWidth, c.InputHeight);
                metrics = ort.ToDictionary();
                metrics["cpu_latency_ms"] = latencyMs;
                bytes = ModelExporter.Export(net, new ExportInfo { Labels = labels, Dataset = manifest.Options.Dataset, Recipe = recipe, Metrics = metrics });
            }
            File.WriteAllBytes(outPath, bytes);
            Console.WriteLine($"wrote {outPath} ({bytes.Length / 1048576.0:0.0} MiB, {net.ParameterCount / 1e6:0.00} M parameters)");
            if (ort is not null)
            {
                Console.WriteLine($"test split (ONNX Runtime): mIoU {TrainingCli.P(ort.MeanIoU)}  pixacc {TrainingCli.P(ort.PixelAccuracy)}  RMSE {TrainingCli.F(ort.Rmse)} m  logRMSE {TrainingCli.F(ort.LogRmse)}  d1 {TrainingCli.P(ort.Delta1)}");
                Console.WriteLine($"baselines: majority class mIoU {TrainingCli.P(baseline!.MeanIoU)}, mean depth RMSE {TrainingCli.F(baseline.Rmse)} m; CPU latency {latencyMs:0.0} ms");
            }
            var cardPath = Path.ChangeExtension(outPath, ".md");
            File.WriteAllText(cardPath, ModelCard.Write(Path.GetFileName(outPath), net, manifest, labels, ort, baseline, majority, meanDepth, latencyMs, r.GetValue(command)));
            Console.WriteLine($"wrote {cardPath}");
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// Each parameter tensor becomes its own first 4,096 initialised values repeated: the same scale and distribution
    /// as the initialiser's, but a file that gzip shrinks to a few MiB (its 32 KiB window sees the repeats).
    /// </summary>
    private static void TileWeights(MtlNet net)
    {
        using var _ = TorchSharp.torch.no_grad();
        foreach (var p in net.parameters())
        {
            var n = p.numel();
            if (n <= 4096) continue;
            using var flat = p.view(-1);
            using var block = flat.slice(0, 0, 4096, 1).clone();
            using var repeated = block.repeat((n + 4095) / 4096);
            using var cut = repeated.slice(0, 0, n, 1);
            flat.copy_(cut);
        }
    }

    /// <summary>A freshly initialised network (BatchNorm at its initial statistics) for timing, e.g. the paper-sized MTL_SSW.</summary>
    private static int ExportUntrained(string arch, string size, string outPath, bool tiled)
    {
        var variant = ModelConfig.ParseVariant(arch);
        var config = size switch
        {
            "paper" => ModelConfig.Paper(variant),
            "light" => ModelConfig.Light(variant),
            _ => throw new ArgumentException($"--size '{size}': use light or paper"),
        };
        var labels = config.NumClasses == 13 ? LabelSet.Nyu13 : LabelSet.Nyu40;
        using var net = new MtlNet(config);
        if (tiled) TileWeights(net);
        var bytes = ModelExporter.Export(net, new ExportInfo { Labels = labels, Dataset = "untrained" });
        OutputFolder.EnsureParent(outPath, "--out");
        File.WriteAllBytes(outPath, bytes);
        Console.WriteLine($"wrote {outPath} ({bytes.Length / 1048576.0:0.0} MiB, {net.ParameterCount / 1e6:0.00} M parameters, {config.ArchitectureName} {ModelConfig.BackboneName(config.Backbone)}-os{config.OutputStride} {config.InputWidth}x{config.InputHeight}, untrained: for timing only)");
        return 0;
    }
}

/// <summary>Evaluates an exported model with ONNX Runtime, exactly as the engine will run it.</summary>
public static class OrtEvaluation
{
    public static EvalResult Evaluate(byte[] model, ISegDepthDataset data, int classes, string what = "evaluating")
    {
        using var session = new InferenceSession(model);
        var seg = new Pipeline.Quality.SegmentationMetrics(classes);
        var depth = new Pipeline.Quality.DepthMetrics();
        var progress = new ProgressLine(what, data.Count);
        for (var i = 0; i < data.Count; i++)
        {
            var s = data.Get(i);
            using var input = OrtValue.CreateTensorValueFromMemory(s.Image, [1, s.Height, s.Width, 3]);
            using var outputs = session.Run(new RunOptions(), ["image"], [input], ["labels", "depth"]);
            seg.Add(s.Labels, outputs[0].GetTensorDataAsSpan<byte>());
            depth.Add(s.Depth, outputs[1].GetTensorDataAsSpan<float>());
            progress.Report(i + 1);
        }
        progress.Done();
        return new EvalResult(seg.MeanIoU, seg.PixelAccuracy, depth.Rmse, depth.LogRmse, depth.AbsRel, depth.Delta1, data.Count);
    }

    /// <summary>
    /// Median latency over a time budget rather than a fixed count, so a paper-sized network on two cores finishes:
    /// at least <paramref name="minRuns"/> timed runs, then until <paramref name="budget"/> or <paramref name="maxRuns"/>.
    /// </summary>
    public static double MedianLatencyMs(byte[] model, int w, int h, int maxRuns = 30, int minRuns = 3, TimeSpan? budget = null)
    {
        budget ??= TimeSpan.FromSeconds(10);
        using var session = new InferenceSession(model);
        var image = new byte[w * h * 3];
        new Random(1).NextBytes(image);
        using var input = OrtValue.CreateTensorValueFromMemory(image, [1, h, w, 3]);
        void RunOnce() { using var o = session.Run(new RunOptions(), ["image"], [input], ["labels", "depth", "confidence"]); }
        var warm = Stopwatch.StartNew();
        for (var i = 0; i < 5 && (i < 1 || warm.Elapsed < budget / 4); i++) RunOnce();
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        var progress = new ProgressLine("timing", maxRuns);
        while (times.Count < maxRuns && (times.Count < minRuns || clock.Elapsed < budget))
        {
            var t = Stopwatch.GetTimestamp();
            RunOnce();
            times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            progress.Report(times.Count);
        }
        progress.Done();
        times.Sort();
        return times[times.Count / 2];
    }
}

internal static class ModelCard
{
    public static string Write(string file, MtlNet net, RunManifest m, LabelSet labels, EvalResult? ort, EvalResult? baseline, int majority, double meanDepth, double latencyMs, string? command)
    {
        var c = m.Config;
        var o = m.Options;
        var sb = new StringBuilder();
        sb.AppendLine($"# {file}: {c.ArchitectureName}, {ModelConfig.BackboneName(c.Backbone)} (output stride {c.OutputStride})");
        sb.AppendLine();
        sb.AppendLine($"Joint semantic segmentation ({labels.Count} classes, {labels.Name}) and depth estimation (metres, 0-{c.MaxDepth} m), input {c.InputWidth}x{c.InputHeight} BGR uint8, {net.ParameterCount / 1e6:0.00} M parameters.");
        sb.AppendLine();
        sb.AppendLine("## Data");
        sb.AppendLine(DatasetFactory.IsSynthetic(o.Dataset)
            ? $"The procedural synthetic indoor RGB-D world (src/Capture/Synthetic{(o.Dataset == "synthetic-dr" ? ", domain-randomised: random surfaces, 1-4 coloured lights with soft shadows, clutter, field of view 50-75 degrees, camera height, pitch and roll, blur, noise, vignetting, white balance and JPEG" : "")}), seed {o.Seed}: {o.TrainSamples} training stills, {o.ValSamples} validation and {o.ValSamples} test stills from disjoint room index ranges. Exact depth and NYU-13 labels. No real images were used: accuracy on real cameras is not measured."
            : $"{o.Dataset} from {o.DataPath}.");
        sb.AppendLine();
        sb.AppendLine("## Recipe");
        sb.AppendLine($"{o.Optimizer} lr {o.LearningRate} (poly {o.PolyPower}), weight decay {o.WeightDecay}, batch {o.BatchSize}, {o.Epochs} epochs, loss {o.SegWeight} x cross-entropy (ignore 255) + {o.DepthWeight} x L1 on valid depth, augmentation {(o.Augment ? "zoom 1-1.4 (depth / zoom), flip, colour jitter" : "off")}, selective weights initialised self {o.SwSelf} / cross {o.SwCross}, CPU.");
        sb.AppendLine();
        sb.AppendLine("Produced by:");
        sb.AppendLine("```");
        sb.AppendLine(command ?? $"./rtmtl train --arch {o.Architecture} --backbone {o.Backbone} --dataset {o.Dataset} --epochs {o.Epochs} --batch {o.BatchSize} --lr {o.LearningRate.ToString(CultureInfo.InvariantCulture)} --seed {o.Seed} --out {o.OutDir}");
        sb.AppendLine($"./rtmtl export --run {o.OutDir} --out models/{file}");
        sb.AppendLine("```");
        sb.AppendLine();
        if (ort is not null && baseline is not null)
        {
            sb.AppendLine($"## Test split ({ort.Samples} synthetic stills, ONNX Runtime, this file)");
            sb.AppendLine();
            sb.AppendLine("| | mIoU | pixel acc. | RMSE (m) | log RMSE | abs rel | delta<1.25 |");
            sb.AppendLine("|---|---|---|---|---|---|---|");
            sb.AppendLine($"| this model | {TrainingCli.P(ort.MeanIoU)} | {TrainingCli.P(ort.PixelAccuracy)} | {TrainingCli.F(ort.Rmse)} | {TrainingCli.F(ort.LogRmse)} | {TrainingCli.F(ort.AbsRel)} | {TrainingCli.P(ort.Delta1)} |");
            sb.AppendLine($"| trivial: majority class ({labels.Classes[majority]}) / mean depth ({meanDepth:0.00} m) | {TrainingCli.P(baseline.MeanIoU)} | {TrainingCli.P(baseline.PixelAccuracy)} | {TrainingCli.F(baseline.Rmse)} | {TrainingCli.F(baseline.LogRmse)} | {TrainingCli.F(baseline.AbsRel)} | {TrainingCli.P(baseline.Delta1)} |");
            sb.AppendLine();
            sb.AppendLine($"CPU latency (ONNX Runtime, batch 1, {c.InputWidth}x{c.InputHeight}, median of 30 runs on this 2-core machine): {latencyMs:0.0} ms.");
            sb.AppendLine();
        }
        sb.AppendLine("## Contract");
        sb.AppendLine("Input `image` uint8 [N,H,W,3] BGR; outputs `labels` uint8 [N,H,W], `depth` float32 [N,H,W] metres, `confidence` float32 [N,H,W]; metadata `rtmtl.*` (see `./rtmtl info` on this file).");
        return sb.ToString();
    }
}
