using System.Diagnostics;
using OpenCvSharp;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Training.Onnx;

namespace RealtimeMtl.Training.Tests;

/// <summary>rtmtl import: a model exported by PyTorch (Debian's python3-torch), wrapped, runs in the engine with PyTorch's results.</summary>
public class ImportTests
{
    private static string Root => TrainProcess.Root;

    private static string TorchExport(bool withIf = false)
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-import-").FullName;
        var python = "/usr/bin/python3";
        string[] args = withIf ? [Path.Combine(Root, "tests", "clients", "torch_two_head.py"), dir, "if"] : [Path.Combine(Root, "tests", "clients",
            "torch_two_head.py"), dir];
        using var p = Process.Start(new ProcessStartInfo(python, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err.Contains("No module named 'torch'") ? "install Debian's python3-torch (./rtmtl test installs it): " + err
            : err);
        return dir;
    }

    [Fact]
    public void A_pytorch_exported_model_wrapped_by_import_gives_pytorchs_labels_and_depth_in_the_engine()
    {
        var dir = TorchExport();
        var wrapped = Path.Combine(dir, "wrapped.onnx");
        var r = TrainProcess.Run($"import --onnx {dir}/model.onnx --out {wrapped} --seg-output logits --depth-output dist --classes a,b,c,d,e " +
            $"--depth-range 0,10");
        Assert.True(r.Code == 0, r.Stderr);
        // An imported model converts to fp16 like an exported one (it has no rtmtl architecture to rebuild).
        var half = TrainProcess.Run($"export --onnx {wrapped} --precision fp16 --no-eval --out {dir}/wrapped.fp16.onnx");
        Assert.True(half.Code == 0, half.Stderr);
        using (var fp16 = new OnnxMtlModel($"{dir}/wrapped.fp16.onnx")) Assert.Equal(128, fp16.Info.InputWidth);
        AssertPyTorchResults(dir, wrapped);
    }

    [Fact]
    public void A_pytorch_export_with_an_if_node_keeps_its_subgraphs_through_import_and_gives_pytorchs_results()
    {
        var dir = TorchExport(withIf: true);
        var source = OnnxGraph.Parse(File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
        Assert.Contains(source.Nodes, n => n.Op == "If");
        var wrapped = Path.Combine(dir, "wrapped.onnx");
        var r = TrainProcess.Run($"import --onnx {dir}/model.onnx --out {wrapped} --seg-output logits --depth-output dist --classes a,b,c,d,e " +
            $"--depth-range 0,10");
        Assert.True(r.Code == 0, r.Stderr);
        // The If node and both of its branches survive, renamed with the rest of the imported graph.
        var result = OnnxGraph.Parse(File.ReadAllBytes(wrapped));
        var ifNode = Assert.Single(result.Nodes, n => n.Op == "If");
        var branches = ifNode.Attributes.Select(a => a.Value).OfType<global::Onnx.AttributeProto>().ToList();
        Assert.Equal(["else_branch", "then_branch"], branches.Select(b => b.Name).Order());
        Assert.All(branches, b => Assert.All(b.G.Node.SelectMany(n => n.Input), i => Assert.StartsWith("src/", i)));
        AssertPyTorchResults(dir, wrapped);
    }

    /// <summary>The wrapped model, run by ONNX Runtime as the engine runs it, gives what PyTorch computed.</summary>
    private static void AssertPyTorchResults(string dir, string wrapped)
    {
        using var model = new OnnxMtlModel(wrapped);
        Assert.Equal((128, 96), (model.Info.InputWidth, model.Info.InputHeight));
        Assert.Equal(["a", "b", "c", "d", "e"], model.Info.Labels.Classes);
        Assert.True(model.Info.HasConfidence);
        for (var k = 0; k < 4; k++)
        {
            var image = File.ReadAllBytes(Path.Combine(dir, $"image_{k}.bin"));
            using var frame = Mat.FromPixelData(96, 128, MatType.CV_8UC3, image);
            model.SetInput(frame);
            model.Run();
            var expectedLabels = File.ReadAllBytes(Path.Combine(dir, $"labels_{k}.bin"));
            var expectedDepth = new float[96 * 128];
            Buffer.BlockCopy(File.ReadAllBytes(Path.Combine(dir, $"depth_{k}.bin")), 0, expectedDepth, 0, expectedDepth.Length * 4);
            model.Labels.GetArray(out byte[] labels);
            model.Depth.GetArray(out float[] depth);
            var agree = labels.Zip(expectedLabels).Count(x => x.First == x.Second) / (double)labels.Length;
            Assert.True(agree > 0.999, $"image {k}: labels agree on {agree:P3}");
            var worst = depth.Zip(expectedDepth).Max(x => Math.Abs(x.First - x.Second));
            Assert.True(worst < 1e-3, $"image {k}: depth differs by up to {worst} m");
            Assert.True(expectedLabels.Distinct().Count() > 1, "the reference must use more than one class");
        }
    }

    [Theory]
    [InlineData("--seg-output nope --depth-output dist --classes a,b,c,d,e", "no output 'nope'")]
    [InlineData("--seg-output logits --depth-output dist --classes a,b", "5 classes")]
    [InlineData("--seg-output dist --depth-output logits --classes a", "must be")]
    [InlineData("--seg-output logits --depth-output dist", "--classes")]
    public void Import_mistakes_are_one_clear_error(string options, string expected)
    {
        var dir = TorchExport();
        var r = TrainProcess.Run($"import --onnx {dir}/model.onnx --out {dir}/x.onnx {options}");
        Assert.Equal(2, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
    }
}
