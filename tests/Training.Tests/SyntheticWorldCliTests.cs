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
