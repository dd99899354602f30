using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Tests;

/// <summary>Shared helpers: random-but-meaningful weights, TorchSharp reference inference, ONNX Runtime inference.</summary>
internal static class TestModels
{


    public static ModelConfig Small(Variant v) => ModelConfig.Light(v) with { InputWidth = 128, InputHeight = 96 };

    /// <summary>A network with seeded random weights and randomised BatchNorm statistics.</summary>
    public static MtlNet Create(ModelConfig config, int seed)
    {
        manual_seed(seed);
        var net = new MtlNet(config);
        Randomise(net, seed);
        return net;
    }

    /// <summary>Random BatchNorm statistics and affine terms so that folding is really exercised.</summary>
    public static void Randomise(MtlNet net, int seed)
    {
        manual_seed(seed);
        using var _ = no_grad();
        foreach (var (name, buffer) in net.named_buffers())
        {
            if (name.EndsWith("running_mean")) buffer.copy_(randn_like(buffer) * 0.1);
            else if (name.EndsWith("running_var")) buffer.copy_(rand_like(buffer) * 0.5 + 0.75);
        }
        foreach (var (name, p) in net.named_parameters())
            if (name.EndsWith(".1.weight") || name.Contains("bn")) p.copy_(rand_like(p) * 0.5 + 0.75);
            else if (name == "seg_classifier.weight") p.mul_(8); // spread the logits so argmax varies across pixels
        net.eval();
    }

    public static byte[] RandomImage(int n, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[n * h * w * 3];
        // Smooth structure plus noise, so argmax is not decided by ties.
        for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)Math.Clamp(128 + 90 * Math.Sin(i * 0.0007) + rng.Next(-40, 40), 0, 255);
        return bytes;
    }

    /// <summary>The reference: TorchSharp eval forward with the same preprocessing and post-processing as the graph.</summary>
    public static (byte[] Labels, float[] Depth) TorchPredict(MtlNet net, byte[] image, int n)
    {
        var c = net.Config;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = Preprocess.FromBgrBytes(image, n, c.InputHeight, c.InputWidth);
        var (seg, depth) = net.forward(x);
        var labels = c.HasSegmentation ? seg.argmax(1).to_type(ScalarType.Byte).data<byte>().ToArray() : Enumerable.Repeat((byte)255,
            n * c.InputHeight * c.InputWidth).ToArray();
        var d = c.HasDepth ? depth.clamp(0, c.MaxDepth).squeeze(1).data<float>().ToArray() : new float[n * c.InputHeight * c.InputWidth];
        return (labels, d);
    }

    public static (byte[] Labels, float[] Depth, float[] Confidence) OrtPredict(byte[] model, byte[] image, int n, int h, int w)
    {
        using var session = new InferenceSession(model);
        using var input = OrtValue.CreateTensorValueFromMemory(image, [n, h, w, 3]);
        using var results = session.Run(new RunOptions(), ["image"], [input], ["labels", "depth", "confidence"]);
        return (results[0].GetTensorDataAsSpan<byte>().ToArray(), results[1].GetTensorDataAsSpan<float>().ToArray(),
            results[2].GetTensorDataAsSpan<float>().ToArray());
    }

    public static byte[] Export(MtlNet net) => ModelExporter.Export(net, new ExportInfo { Labels = LabelSetFor(net.Config) });

    public static LabelSet LabelSetFor(ModelConfig c) => c.NumClasses == 13 ? LabelSet.Nyu13 : c.NumClasses == 40 ? LabelSet.Nyu40
        : new LabelSet("test", Enumerable.Range(0, c.NumClasses).Select(i => $"c{i}").ToArray());
}
