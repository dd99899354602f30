using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Onnx;

namespace RealtimeMtl.Training.Tests;

/// <summary>The ONNX reader, INT8 QDQ quantization and FP16 conversion of exported models.</summary>
[Collection(LibTorchInProcess.Name)]
public class PrecisionExportTests
{
    private static readonly string ShippedModel = Path.Combine(FindRoot(), "models", "mtl_ssw_light.onnx");

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RealtimeMtl.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    private static (OnnxGraph Graph, byte[] Bytes, ModelConfig Config) SmallExport(int seed)
    {
        using var net = TestModels.Create(TestModels.Small(Variant.MtlSsw), seed);
        var bytes = TestModels.Export(net);
        return (OnnxGraph.Parse(bytes), bytes, net.Config);
    }

    private static IEnumerable<byte[]> Frames(ModelConfig c, int count, int seed) =>
        Enumerable.Range(0, count).Select(i => TestModels.RandomImage(1, c.InputHeight, c.InputWidth, seed + i));

    private static double Agreement(byte[] a, byte[] b) => (double)a.Zip(b).Count(p => p.First == p.Second) / a.Length;

    [Fact]
    public void The_reader_gives_back_exactly_what_the_exporter_wrote()
    {
        var (graph, bytes, _) = SmallExport(1);
        Assert.Equal(bytes, graph.ToModel());
        Assert.Equal(17, graph.Opset);
        Assert.Contains(graph.Nodes, n => n.Op == "Conv");
        Assert.Equal("MTL_SSW", graph.Metadata["rtmtl.architecture"]);
    }

    [Fact]
    public void A_file_that_is_not_onnx_is_a_clear_error()
    {
        Assert.Throws<InvalidDataException>(() => OnnxGraph.Parse([0x08, 0x08, 0xff]));
        Assert.Throws<InvalidDataException>(() => OnnxGraph.Parse("not a model at all"u8.ToArray()));
    }

    [Fact]
    public void Int8_qdq_model_has_int8_weights_runs_in_onnx_runtime_and_agrees_with_the_float_model()
    {
        var (graph, floatBytes, c) = SmallExport(2);
        var ranges = QdqQuantizer.Calibrate(graph, Frames(c, 6, 100), c.InputWidth, c.InputHeight);
        Assert.Equal(QdqQuantizer.ActivationTensors(graph).Count, ranges.Count);
        Assert.All(ranges.Values, r => Assert.True(r.Max >= r.Min));
        var q = QdqQuantizer.Quantize(graph, ranges);

        // Every Conv takes its weight from a DequantizeLinear of an int8 initializer; no float Conv weight is left.
        var producers = q.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var inits = q.Initializers.ToDictionary(i => i.Name);
        foreach (var conv in q.Nodes.Where(n => n.Op == "Conv"))
        {
            var dq = producers[conv.Inputs[1]];
            Assert.Equal("DequantizeLinear", dq.Op);
            Assert.Equal(OnnxType.Int8, inits[dq.Inputs[0]].Type);
            Assert.Equal("DequantizeLinear", producers[conv.Inputs[0]].Op);
        }
        var bytes = q.ToModel();
        Assert.True(bytes.Length < floatBytes.Length * 0.4, $"int8 file {bytes.Length} B vs float {floatBytes.Length} B");

        var image = TestModels.RandomImage(1, c.InputHeight, c.InputWidth, 7);
        var f = TestModels.OrtPredict(floatBytes, image, 1, c.InputHeight, c.InputWidth);
        var i8 = TestModels.OrtPredict(bytes, image, 1, c.InputHeight, c.InputWidth);
        Assert.True(Agreement(f.Labels, i8.Labels) > 0.9, $"labels agree on {Agreement(f.Labels, i8.Labels):P1}");
        var meanDepth = f.Depth.Average();
        var meanError = f.Depth.Zip(i8.Depth).Average(p => Math.Abs(p.First - p.Second));
        Assert.True(meanError < 0.05 * meanDepth, $"mean depth change {meanError:0.000} m vs mean depth {meanDepth:0.000} m");
    }

    [Fact]
    public void Fp16_model_stores_half_weights_keeps_the_contract_and_agrees_with_the_float_model()
    {
        var (graph, floatBytes, c) = SmallExport(3);
        var half = Float16Converter.Convert(graph);
        var inits = half.Initializers.ToDictionary(i => i.Name);
        Assert.All(half.Nodes.Where(n => n.Op == "Conv"), conv => Assert.Equal(OnnxType.Float16, inits[conv.Inputs[1]].Type));
        var bytes = half.ToModel();
        Assert.True(bytes.Length < floatBytes.Length * 0.6);
        using (var session = new InferenceSession(bytes))
        {
            Assert.Equal(typeof(byte), session.InputMetadata["image"].ElementType);
            Assert.Equal(typeof(float), session.OutputMetadata["depth"].ElementType);
            Assert.Equal(typeof(byte), session.OutputMetadata["labels"].ElementType);
        }
        var image = TestModels.RandomImage(1, c.InputHeight, c.InputWidth, 8);
        var f = TestModels.OrtPredict(floatBytes, image, 1, c.InputHeight, c.InputWidth);
        var h = TestModels.OrtPredict(bytes, image, 1, c.InputHeight, c.InputWidth);
        Assert.True(Agreement(f.Labels, h.Labels) > 0.98, $"labels agree on {Agreement(f.Labels, h.Labels):P1}");
        Assert.True(f.Depth.Zip(h.Depth).Max(p => Math.Abs(p.First - p.Second)) < 0.05);
    }

    [Fact]
    public void An_exported_models_metadata_rebuilds_its_exact_config()
    {
        using var net = TestModels.Create(TestModels.Small(Variant.MtlSwPp), 4);
        var graph = OnnxGraph.Parse(TestModels.Export(net));
        var config = ConfigFromMetadata.Read(graph.Metadata, "test.onnx");
        Assert.Equal(JsonSerializer.Serialize(net.Config, ConfigFromMetadata.Json), JsonSerializer.Serialize(config, ConfigFromMetadata.Json));
    }

    [Fact]
    public void The_shipped_models_metadata_rebuilds_an_architecture_with_its_parameter_count()
    {
        // The shipped file stores its exact config (rtmtl.config, with the ImageNet block layout).
        var graph = OnnxGraph.Parse(File.ReadAllBytes(ShippedModel));
        var config = ConfigFromMetadata.Read(graph.Metadata, ShippedModel);
        using var net = new MtlNet(config);
        Assert.Equal(long.Parse(graph.Metadata["rtmtl.parameters"]), net.ParameterCount);
        Assert.Equal((256, 192), (config.InputWidth, config.InputHeight));
        Assert.True(config.ImageNetTopology);

        // Files from before rtmtl.config: the architecture comes from architecture, backbone, size and classes.
        using var light = TestModels.Create(ModelConfig.Light(Variant.MtlSsw), 3);
        var legacy = OnnxGraph.Parse(TestModels.Export(light));
        Assert.True(legacy.Metadata.Remove("rtmtl.config"));
        var rebuilt = ConfigFromMetadata.Read(legacy.Metadata, "legacy.onnx");
        using var again = new MtlNet(rebuilt);
        Assert.Equal(light.ParameterCount, again.ParameterCount);
    }
}
