using System.Text.Json;
using OpenCvSharp;

namespace RealtimeMtl.Training.Tests;

/// <summary>The randomised world from the command line: synth --world, train/eval --dataset synthetic-dr, eval --onnx.</summary>
public class SyntheticWorldCliTests
{
    [Fact]
    public void Synth_grid_draws_the_randomised_world_by_default_and_the_classic_one_on_request()
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-grid-");
        try
        {
            var dr = TrainProcess.Run($"synth --grid {dir}/dr.png --count 4 --size 96x72");
            var classic = TrainProcess.Run($"synth --grid {dir}/classic.png --count 4 --size 96x72 --world classic");
            Assert.True(dr.Code == 0 && classic.Code == 0, dr.Stderr + classic.Stderr);
            Assert.Contains("randomised world", dr.Stdout);
            Assert.Contains("classic world", classic.Stdout);
            using var a = Cv2.ImRead($"{dir}/dr.png"); using var b = Cv2.ImRead($"{dir}/classic.png");
            Assert.Equal((384, 72), (a.Width, a.Height));
            using var diff = new Mat();
            Cv2.Absdiff(a, b, diff);
            Assert.True(Cv2.Mean(diff).Val0 > 10, "the two worlds look alike");
            var bad = TrainProcess.Run($"synth --grid {dir}/x.png --world photoreal");
            Assert.Equal(2, bad.Code);
            Assert.Contains("--world", bad.Stderr);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Eval_scores_an_onnx_model_on_the_randomised_split_and_on_the_classic_one()
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-evalonnx-");
        try
        {
            var json = Path.Combine(dir.FullName, "m.json");
            var r = TrainProcess.Run($"eval --onnx {TrainProcess.ShippedModel} --dataset synthetic-dr --samples 6 --json {json}");
            Assert.True(r.Code == 0, r.Stderr);
            Assert.Contains("synthetic-dr(seed=1,test), 6 samples", r.Stdout);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.StartsWith("synthetic-dr", doc.RootElement.GetProperty("dataset").GetString());
            var miou = doc.RootElement.GetProperty("model").GetProperty("miou").GetDouble();
            Assert.InRange(miou, 0.0, 1.0);

            // The same model on the classic split it was trained on scores differently (another data set, really used).
            var classic = TrainProcess.Run($"eval --onnx {TrainProcess.ShippedModel} --dataset synthetic --samples 6 --json {json}");
            Assert.True(classic.Code == 0, classic.Stderr);
            using var doc2 = JsonDocument.Parse(File.ReadAllText(json));
            Assert.NotEqual(miou, doc2.RootElement.GetProperty("model").GetProperty("miou").GetDouble());

            var both = TrainProcess.Run($"eval --onnx {TrainProcess.ShippedModel} --run runs/x");
            Assert.Equal(2, both.Code);
        }
        finally { dir.Delete(true); }
    }
}

/// <summary>rtmtl train without --out: a new runs/train/train-N each time, runs/train/latest linked to it; an explicit --out holding a run is not
/// overwritten.</summary>
public class TrainRunFolderTests
{
    [Fact]
    public async Task Train_without_out_makes_numbered_runs_and_refuses_to_overwrite_an_explicit_one()
    {
        var work = Directory.CreateTempSubdirectory("rtmtl-trainruns-").FullName;
        try
        {
            const string quick = "train --arch mtl --epochs 1 --limit 8 --val-samples 4 --input-size 64x64 --pretrained none --threads 1 -q";
            var a = await TrainProcess.RunAsync(quick, null, null, workingDirectory: work);
            Assert.True(a.Code == 0, a.Stderr);
            var b = await TrainProcess.RunAsync(quick, null, null, workingDirectory: work);
            Assert.True(b.Code == 0, b.Stderr);
            Assert.True(File.Exists(Path.Combine(work, "runs", "train", "train-1", "best.pt")));
            Assert.True(File.Exists(Path.Combine(work, "runs", "train", "train-2", "best.pt")));
            Assert.Equal("train-2", new DirectoryInfo(Path.Combine(work, "runs", "train", "latest")).LinkTarget);
            Assert.Contains("runs/train/train-2", b.Stderr);

            var log = File.ReadAllBytes(Path.Combine(work, "runs", "train", "train-1", "log.jsonl"));
            var c = await TrainProcess.RunAsync(quick + " --out runs/train/train-1", null, null, workingDirectory: work);
            Assert.Equal(2, c.Code);
            Assert.Contains("--resume", c.Stderr);
            Assert.Equal(log, File.ReadAllBytes(Path.Combine(work, "runs", "train", "train-1", "log.jsonl")));
        }
        finally { Directory.Delete(work, true); }
    }
}
