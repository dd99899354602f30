using System.CommandLine;
using System.Globalization;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

internal static class ExportCommand
{
    public static Command Build()
    {
        var run = new Option<string?>("--run") { Description = "Run directory of a training run" };
        var onnx = new Option<string?>("--onnx") { Description = "Instead of --run: an exported float model to rewrite with --precision" };
        var precision = new Option<string>("--precision")
        {
            Description =
            "fp32 (default), fp16 (for GPUs) or int8 (QDQ, calibrated on training frames, for CPUs); fp16/int8 need --onnx", DefaultValueFactory = _
                => "fp32"
        };
        var calibration = new Option<int>("--calibration-frames")
        {
            Description = "INT8: synthetic training frames to calibrate activation ranges on",
            DefaultValueFactory = _ => 64
        };
        var testSamples = new Option<int>("--test-samples")
        {
            Description = "fp16/int8: synthetic test stills to compare fp32 and the new file on",
            DefaultValueFactory = _ => 200
        };
        var untrained = new Option<string?>("--untrained")
        {
            Description =
            "Instead of --run: export a freshly initialised network of this architecture (for timing only), e.g. --untrained mtl_ssw --size paper"
        };
        var size = new Option<string>("--size") { Description = "With --untrained: light or paper", DefaultValueFactory = _ => "light" };
        var tiled = new Option<bool>("--tiled-weights")
        {
            Description =
            "With --untrained: each weight tensor repeats one seeded random block, so the file compresses (gzip) for carrying to a GPU machine; " +
                "timing does not depend on weight values"
        };
        var ckpt = new Option<string?>("--checkpoint") { Description = "Checkpoint (default: the run's best.pt)" };
        var output = new Option<string>("--out") { Description = "ONNX file to write; a model card NAME.md is written beside it", Required = true };
        var noEval = new Option<bool>("--no-eval")
        {
            Description = "Skip the test-split evaluation and latency measurement (no metrics in the card)"
        };
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
            if (sources != 1) throw new ArgumentException("give exactly one of --run (a training run), --onnx (a float model to rewrite) or " +
                "--untrained (an architecture)");
            if (r.GetValue(onnx) is { } onnxPath)
                return PrecisionExport.Run(onnxPath, r.GetValue(output)!, r.GetValue(precision)!, r.GetValue(calibration), r.GetValue(testSamples),
                    r.GetValue(command), r.GetValue(noEval));
            if (r.GetValue(precision) != "fp32")
                throw new ArgumentException("--precision fp16/int8 rewrites an exported model: export the float model first, then run export " +
                    "--onnx FILE --precision ...");
            if (r.GetValue(untrained) is { } arch) return ExportUntrained(arch, r.GetValue(size)!, r.GetValue(output)!, r.GetValue(tiled));
            var (net, manifest) = RunLoader.Load(r.GetValue(run)!, r.GetValue(ckpt));
            var c = manifest.Config;
            var labels = manifest.Options.Dataset switch
            {
                "synthetic" or "synthetic-dr" => LabelSet.Nyu13,
                "sunrgbd" => LabelSet.SunRgbd37,
                _ => LabelSet.Nyu40
            };
            var outPath = r.GetValue(output)!;
            OutputFolder.EnsureParent(outPath, "--out");
            var recipe = new Dictionary<string, string>
            {
                ["optimizer"] = manifest.Options.Optimizer.ToString().ToLowerInvariant(),
                ["lr"] = manifest.Options.LearningRate.ToString(CultureInfo.InvariantCulture),
                ["schedule"] = $"poly {manifest.Options.PolyPower}", ["epochs"] = manifest.Options.Epochs.ToString(CultureInfo.InvariantCulture),
                ["batch"] = manifest.Options.BatchSize.ToString(CultureInfo.InvariantCulture),
                ["seed"] = manifest.Options.Seed.ToString(CultureInfo.InvariantCulture),
                ["loss"] = $"{manifest.Options.SegWeight} x CE(ignore 255) + {manifest.Options.DepthWeight} x L1(valid depth)",
                ["train_samples"] = DatasetFactory.IsSynthetic(manifest.Options.Dataset)
                    ? manifest.Options.TrainSamples.ToString(CultureInfo.InvariantCulture) : "split file",
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
                bytes = ModelExporter.Export(net, new ExportInfo
                {
                    Labels = labels, Dataset = manifest.Options.Dataset, Recipe = recipe,
                    Metrics = metrics
                });
            }
            RealtimeMtl.Common.Files.AtomicFile.Write(outPath, bytes);
            Console.WriteLine($"wrote {outPath} ({bytes.Length / 1048576.0:0.0} MiB, {net.ParameterCount / 1e6:0.00} M parameters)");
            if (ort is not null)
            {
                Console.WriteLine($"test split (ONNX Runtime): mIoU {TrainingCli.P(ort.MeanIoU)}  pixacc {TrainingCli.P(ort.PixelAccuracy)}  RMSE " +
                    $"{TrainingCli.F(ort.Rmse)} m  logRMSE {TrainingCli.F(ort.LogRmse)}  d1 {TrainingCli.P(ort.Delta1)}");
                Console.WriteLine($"baselines: majority class mIoU {TrainingCli.P(baseline!.MeanIoU)}, mean depth RMSE " +
                    $"{TrainingCli.F(baseline.Rmse)} m; CPU latency {latencyMs:0.0} ms");
            }
            var cardPath = Path.ChangeExtension(outPath, ".md");
            AtomicFile.Write(cardPath, ModelCard.Write(Path.GetFileName(outPath), net, manifest, labels, ort, baseline, majority, meanDepth,
                latencyMs, r.GetValue(command)));
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
        RealtimeMtl.Common.Files.AtomicFile.Write(outPath, bytes);
        Console.WriteLine($"wrote {outPath} ({bytes.Length / 1048576.0:0.0} MiB, {net.ParameterCount / 1e6:0.00} M parameters, " +
            $"{config.ArchitectureName} {ModelConfig.BackboneName(config.Backbone)}-os{config.OutputStride} " +
                $"{config.InputWidth}x{config.InputHeight}, untrained: for timing only)");
        return 0;
    }
}
