using System.Text.Json;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Tests;

[Collection(LibTorchInProcess.Name)]
public class TrainingSmokeTests
{
    [Fact]
    public void Training_mtl_ssw_light_on_synthetic_for_one_short_epoch_lowers_the_loss_and_writes_a_run()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rtmtl-train-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // The command a user types (at a smaller input size to keep the suite quick).
            var code = Cli.TrainingCli.Run(["train", "--arch", "mtl_ssw", "--backbone", "resnet18-slim", "--dataset", "synthetic", "--epochs", "1",
                "--limit", "64",
                "--input-size", "128x96", "--seed", "3", "--device", "cpu", "--quiet", "--out", dir]);
            Assert.Equal(0, code);
            var iters = File.ReadLines(Path.Combine(dir, "log.jsonl"))
                .Select(l => JsonDocument.Parse(l).RootElement)
                .Where(e => e.GetProperty("type").GetString() == "iter")
                .Select(e => e.GetProperty("loss").GetDouble()).ToList();
            Assert.Equal(8, iters.Count);
            Assert.True(iters.Skip(5).Average() < iters.Take(2).Average(), $"loss went {string.Join(", ", iters.Select(l => l.ToString("0.00")))}");
            Assert.True(File.Exists(Path.Combine(dir, "best.pt")));
            Assert.True(File.Exists(Path.Combine(dir, "config.json")));
            // The run's own files are snake_case with a schema version, and the PascalCase ones of older runs still read.
            var configText = File.ReadAllText(Path.Combine(dir, "config.json"));
            var config = JsonDocument.Parse(configText).RootElement;
            Assert.Equal(1, config.GetProperty("schema_version").GetInt32());
            Assert.Equal("mtl_ssw", config.GetProperty("options").GetProperty("architecture").GetString());
            var manifest = RunManifest.Read(configText)!;
            var legacy = JsonSerializer.Serialize(manifest, new JsonSerializerOptions
            {
                Converters = { new
                System.Text.Json.Serialization.JsonStringEnumConverter() }
            });
            Assert.Contains("\"Config\"", legacy);
            Assert.Equal(JsonSerializer.Serialize(manifest, RunManifest.Json), JsonSerializer.Serialize(RunManifest.Read(legacy), RunManifest.Json));
            var stateText = File.ReadAllText(Path.Combine(dir, "state.json"));
            var state = RunState.Read(stateText);
            Assert.Equal(1, state.EpochsDone);
            Assert.Equal(state, RunState.Read(JsonSerializer.Serialize(state, Trainer.JsonLines)));

            // Resume continues after the finished epoch instead of starting over.
            var log = new StringWriter();
            var options = new TrainOptions
            {
                Architecture = "mtl_ssw", Backbone = "resnet18-slim", Dataset = "synthetic", Epochs = 2, Limit = 64, BatchSize = 8, Resume = true,
                InputWidth = 128, InputHeight = 96, OutDir = dir, Quiet = true, Device = "cpu", Seed = 3,
            };
            var resumed = new Trainer(options, new TextEventLog(log)).Run();
            Assert.InRange(resumed.Best.MeanIoU, 0, 1);
            Assert.True(resumed.Best.Rmse > 0);
            Assert.Single(resumed.EpochLosses);
            Assert.Contains("resumed", log.ToString());

            // Parity on trained weights too: the checkpoint, exported, agrees with TorchSharp.
            using var trained = new Models.MtlNet(resumed.Config);
            trained.load(Path.Combine(dir, "best.pt"));
            trained.eval();
            var image = TestModels.RandomImage(1, 96, 128, 9);
            var (refLabels, refDepth) = TestModels.TorchPredict(trained, image, 1);
            var (labels, depth, _) = TestModels.OrtPredict(TestModels.Export(trained), image, 1, 96, 128);
            Assert.True(refLabels.Zip(labels).Count(p => p.First == p.Second) > 0.999 * labels.Length);
            Assert.True(refDepth.Zip(depth).Max(p => Math.Abs(p.First - p.Second)) < 1e-3);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Train_help_documents_every_option()
    {
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try { Assert.Equal(0, Cli.TrainingCli.Run(["train", "--help"])); }
        finally { Console.SetOut(previous); }
        foreach (var option in new[] { "--arch", "--backbone", "--size", "--dataset", "--data", "--epochs", "--batch", "--lr", "--optimizer",
            "--weight-decay",
                     "--seg-weight", "--depth-weight", "--seed", "--threads", "--limit", "--input-size", "--out", "--resume", "--device", "--sw-init",
                         "Examples" })
            Assert.Contains(option, output.ToString());
    }

    [Fact]
    public void Cuda_request_on_a_cpu_build_falls_back_with_one_line()
    {
        var log = new StringWriter();
        var device = DeviceSelection.Select("cuda", new TextEventLog(log));
        Assert.Equal(TorchSharp.DeviceType.CPU, device.type);
        Assert.Single(log.ToString().Trim().Split('\n'));
        Assert.Contains("CUDA requested but not available", log.ToString());
    }
}
