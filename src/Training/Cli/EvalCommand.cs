using System.CommandLine;
using System.Text.Json;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Models;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

internal static class EvalCommand
{
    public static Command Build()
    {
        var run = new Option<string?>("--run") { Description = "Run directory of a training run" };
        var onnx = new Option<string?>("--onnx")
        {
            Description =
            "Instead: an ONNX model in the engine's contract (exported or imported), run with ONNX Runtime"
        };
        var ckpt = new Option<string?>("--checkpoint") { Description = "Checkpoint (default: the run's best.pt)" };
        var split = new Option<string>("--split") { Description = "val or test", DefaultValueFactory = _ => "test" };
        var dataset = new Option<string?>("--dataset")
        {
            Description =
            "Evaluate on another data set than the run's: synthetic, synthetic-dr, nyu-mat, nyu, sunrgbd (with --data); the default for --onnx is " +
                "the model's rtmtl.dataset"
        };
        var data = new Option<string?>("--data") { Description = "Path of the data set for nyu-mat / nyu / sunrgbd" };
        var samples = new Option<int>("--samples") { Description = "Synthetic split size", DefaultValueFactory = _ => 200 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the synthetic split (default: the run's, or 1 for --onnx)" };
        var json = new Option<string?>("--json") { Description = "Also write the metrics as JSON here" };
        var cmd = new Command("eval", """
            Evaluate a trained run or an ONNX model on a split: mIoU, pixel accuracy, RMSE, log RMSE, abs rel, delta<1.25,
            and the trivial baselines.
            Examples:
              ./rtmtl eval --onnx models/mtl_ssw_light.onnx --dataset synthetic-dr
              ./rtmtl eval --run runs/train/latest --split test
            """) { run, onnx, ckpt, split, dataset, data, samples, seed, json };
        cmd.SetAction(r =>
        {
            if ((r.GetValue(run) is null) == (r.GetValue(onnx) is null)) throw new
                ArgumentException("give --run DIR (a training run) or --onnx FILE (a model), not both");
            var s = r.GetValue(split) switch
            {
                "val" => Split.Val,
                "test" => Split.Test,
                var v => throw new ArgumentException($"--split '{v}': use val or test")
            };
            if (r.GetValue(samples) < 1) throw new ArgumentException("--samples must be at least 1");
            // Before the evaluation, not after it: an unwritable --json is a bad input.
            if (r.GetValue(json) is { } jsonTarget)
            {
                OutputFolder.EnsureParent(jsonTarget, "--json");
                RealtimeMtl.Common.Files.OutputFile.CheckWritable(jsonTarget, "--json", "metrics.json");
            }
            EvalResult result;
            ISegDepthDataset test, train;
            int classes;
            if (r.GetValue(onnx) is { } path)
            {
                if (!File.Exists(path)) throw new ArgumentException($"--onnx '{path}' does not exist");
                var bytes = File.ReadAllBytes(path);
                OnnxGraph graph;
                try { graph = OnnxGraph.Parse(bytes); }
                catch (InvalidDataException e) { throw new ArgumentException($"--onnx '{path}' is not an ONNX model: {e.Message}"); }
                var md = graph.Metadata;
                if (!md.TryGetValue(ModelMetadataKeys.Classes, out var names) || !md.TryGetValue(ModelMetadataKeys.InputSize, out var size)
                    || size.Split('x') is not [var ws, var hs]
                    || !int.TryParse(ws, out var iw) || !int.TryParse(hs, out var ih))
                    throw new ArgumentException($"--onnx '{path}' has no rtmtl.classes / rtmtl.input_size metadata: export it with ./rtmtl export " +
                        $"or wrap it with ./rtmtl import");
                var modelDataset = md.GetValueOrDefault(ModelMetadataKeys.Dataset, "synthetic");
                var options = new TrainOptions
                {
                    Dataset = r.GetValue(dataset) ?? (modelDataset == "imported"
                        ? throw new ArgumentException($"--onnx '{path}' was imported: name the data set to score it on with --dataset")
                            : modelDataset),
                    DataPath = r.GetValue(data),
                    Seed = r.GetValue(seed) ?? 1, TrainSamples = r.GetValue(samples), ValSamples = r.GetValue(samples),
                };
                classes = names.Split(',').Length;
                if (DatasetFactory.Classes(options) != classes)
                    throw new ArgumentException($"--onnx '{path}' predicts {classes} classes but {options.Dataset} has " +
                        $"{DatasetFactory.Classes(options)}");
                test = DatasetFactory.Open(options, s, iw, ih);
                train = DatasetFactory.Open(options, Split.Train, iw, ih);
                result = OrtEvaluation.Evaluate(bytes, test, classes);
            }
            else
            {
                var (net, manifest) = RunLoader.Load(r.GetValue(run)!, r.GetValue(ckpt));
                var c = manifest.Config;
                var options = manifest.Options with
                {
                    Dataset = r.GetValue(dataset) ?? manifest.Options.Dataset,
                    DataPath = r.GetValue(data)
                    ?? manifest.Options.DataPath,
                    Seed = r.GetValue(seed) ?? manifest.Options.Seed
                };
                if (r.GetValue(dataset) is not null) options = options with { ValSamples = r.GetValue(samples) };
                classes = c.NumClasses;
                test = DatasetFactory.Open(options, s, c.InputWidth, c.InputHeight);
                train = DatasetFactory.Open(options, Split.Train, c.InputWidth, c.InputHeight);
                result = Evaluator.Evaluate(net, test, TorchSharp.torch.CPU);
            }
            var (baseline, majority, meanDepth) = Evaluator.Baselines(train, test, classes, limit: 400);
            Console.WriteLine($"{test.Name}, {result.Samples} samples");
            Console.WriteLine($"model:    mIoU {TrainingCli.P(result.MeanIoU)}  pixacc {TrainingCli.P(result.PixelAccuracy)}  RMSE " +
                $"{TrainingCli.F(result.Rmse)} m  logRMSE {TrainingCli.F(result.LogRmse)}  absrel {TrainingCli.F(result.AbsRel)}  d1 " +
                    $"{TrainingCli.P(result.Delta1)}");
            Console.WriteLine($"baseline: mIoU {TrainingCli.P(baseline.MeanIoU)} (majority class {majority})  RMSE {TrainingCli.F(baseline.Rmse)} " +
                $"m  logRMSE {TrainingCli.F(baseline.LogRmse)} (mean depth {meanDepth:0.00} m)");
            if (r.GetValue(json) is { } jsonPath)
            {
                OutputFolder.EnsureParent(jsonPath, "--json");
                AtomicFile.Write(jsonPath, JsonSerializer.Serialize(new
                {
                    dataset = test.Name, model = result.ToDictionary(),
                    baseline = baseline.ToDictionary()
                }, Trainer.JsonLines));
            }
            return 0;
        });
        return cmd;
    }
}
