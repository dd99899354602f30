using System.Diagnostics;
using RealtimeMtl.Training.Models;

namespace RealtimeMtl.Training.Tests;

[Collection(LibTorchInProcess.Name)]
public class OnnxCheckerTests
{
    [Theory]
    [InlineData(Variant.MtlSsw)]
    [InlineData(Variant.StlAsppSeg)]
    [InlineData(Variant.MtlSwPp)]
    public void Exported_model_passes_the_real_onnx_checker(Variant variant)
    {
        using var net = TestModels.Create(TestModels.Small(variant), 1);
        Check(TestModels.Export(net));
    }

    [Fact]
    public void Int8_qdq_and_fp16_exports_pass_the_real_onnx_checker()
    {
        using var net = TestModels.Create(TestModels.Small(Variant.MtlSsw), 5);
        var c = net.Config;
        var graph = RealtimeMtl.Training.Onnx.OnnxGraph.Parse(TestModels.Export(net));
        var ranges = Onnx.QdqQuantizer.Calibrate(graph, [TestModels.RandomImage(1, c.InputHeight, c.InputWidth, 1)], c.InputWidth, c.InputHeight);
        Check(Onnx.QdqQuantizer.Quantize(graph, ranges).ToModel());
        Check(Onnx.Float16Converter.Convert(graph).ToModel());
    }

    private static void Check(byte[] model)
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "Debian's python3 is missing: install python3-onnx (./rtmtl test installs it)");
        var path = Path.Combine(Path.GetTempPath(), $"rtmtl-check-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        try
        {
            var psi = new ProcessStartInfo(python, ["-c",
                "import sys, onnx; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print('ok', " +
                    "m.opset_import[0].version, len(m.graph.node), {p.key for p in m.metadata_props} >= " +
                        "{'rtmtl.classes','rtmtl.palette','rtmtl.input_size','rtmtl.depth_range','rtmtl.architecture'})", path])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, output.Contains("No module named 'onnx'") ? "python3-onnx is missing (apt-get install python3-onnx): "
                + output : output);
            Assert.StartsWith("ok 17", output.Trim());
            Assert.EndsWith("True", output.Trim());
        }
        finally { File.Delete(path); }
    }
}
