using System.CommandLine;
using System.Text.Json;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

internal static class EvalCommand
{
    public static Command Build()
    {
        var run = new Option<string>("--run") { Description = "Run directory of a training run", Required = true };
        var ckpt = new Option<string?>("--checkpoint") { Description = "Checkpoint (default: the run's best.pt)" };
        var split = new Option<string>("--split") { Description = "val or test", DefaultValueFactory = _ => "test" };
        var json = new Option<string?>("--json") { Description = "Also write the metrics as JSON here" };
        var cmd = new Command("eval", """
            Evaluate a trained run on a split: mIoU, pixel accuracy, RMSE, log RMSE, abs rel, delta<1.25, and the trivial baselines.
            Example: ./rtmtl eval --run runs/shipped --split test
            """) { run, ckpt, split, json };
        cmd.SetAction(r =>
        {
            var (net, manifest) = RunLoader.Load(r.GetValue(run)!, r.GetValue(ckpt));
            var s = r.GetValue(split) == "val" ? Split.Val : Split.Test;
            var c = manifest.Config;
            var data = DatasetFactory.Open(manifest.Options, s, c.InputWidth, c.InputHeight);
            var train = DatasetFactory.Open(manifest.Options, Split.Train, c.InputWidth, c.InputHeight);
            var result = Evaluator.Evaluate(net, data, TorchSharp.torch.CPU);
            var (baseline, majority, meanDepth) = Evaluator.Baselines(train, data, c.NumClasses, limit: 400);
            Console.WriteLine($"{data.Name}, {result.Samples} samples");
            Console.WriteLine($"model:    mIoU {TrainingCli.P(result.MeanIoU)}  pixacc {TrainingCli.P(result.PixelAccuracy)}  RMSE {TrainingCli.F(result.Rmse)} m  logRMSE {TrainingCli.F(result.LogRmse)}  absrel {TrainingCli.F(result.AbsRel)}  d1 {TrainingCli.P(result.Delta1)}");
            Console.WriteLine($"baseline: mIoU {TrainingCli.P(baseline.MeanIoU)} (majority class {majority})  RMSE {TrainingCli.F(baseline.Rmse)} m  logRMSE {TrainingCli.F(baseline.LogRmse)} (mean depth {meanDepth:0.00} m)");
            if (r.GetValue(json) is { } path) File.WriteAllText(path, JsonSerializer.Serialize(new { model = result.ToDictionary(), baseline = baseline.ToDictionary() }, Trainer.JsonLines));
            return 0;
        });
        return cmd;
    }
}
