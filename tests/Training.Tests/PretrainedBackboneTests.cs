using Microsoft.ML.OnnxRuntime;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Onnx;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Tests;

/// <summary>The ImageNet ResNet-18 from NuGet, loaded into the TorchSharp backbone through the project's ONNX reader.</summary>
[Collection(LibTorchInProcess.Name)]
public class PretrainedBackboneTests
{
    /// <summary>Synthetic rooms at 224x224 in the package's convention: BGR NCHW in 0..255 minus its mean image.</summary>
    private static float[] ImageLikeInput(int seed)
    {
        var mean = OnnxGraph.Parse(File.ReadAllBytes(ImageNetResNet18.PreprocessPath())).Initializers.Single(i => i.Name == "MeanImage").Floats();
        using var image = new OpenCvSharp.Mat(); using var depth = new OpenCvSharp.Mat(); using var labels = new OpenCvSharp.Mat();
        SyntheticWorld.RenderStill(seed, 0, 224, 224, image, depth, labels, false);
        var x = new float[3 * 224 * 224];
        for (var y = 0; y < 224; y++)
            for (var xx = 0; xx < 224; xx++)
            {
                var px = image.At<OpenCvSharp.Vec3b>(y, xx);
                for (var c = 0; c < 3; c++) x[c * 224 * 224 + y * 224 + xx] = px[c] - mean[c * 224 * 224 + y * 224 + xx];
            }
        return x;
    }

    [Fact]
    public void The_imported_weights_reproduce_onnx_runtime_on_the_original_graph()
    {
        using var backbone = new ResNet(BackboneKind.ResNet18, 32, 1.0, ImageNetResNet18.Blocks);
        var set = ImageNetResNet18.Load(backbone);
        Assert.Equal(22 + 22 * 4, set); // 22 convs (stem, 18 in blocks, 3 projections), each with a BatchNorm of 4 tensors
        backbone.eval();
        using var session = new InferenceSession(ImageNetResNet18.DefaultPath());
        foreach (var seed in new[] { 3, 11 })
        {
            var x = ImageLikeInput(seed);
            using var input = OrtValue.CreateTensorValueFromMemory(x, [1, 3, 224, 224]);
            using var outputs = session.Run(new RunOptions(), ["Input247"], [input], ["Pooling395_Output_0"]);
            var expected = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            float[] actual;
            using (no_grad())
            {
                using var t = TensorFrom.Array(x, 1, 3, 224, 224);
                var (low, high) = backbone.forward(t);
                using (low) using (high)
                using (var pooled = nn.functional.avg_pool2d(high, 7))
                    actual = pooled.data<float>().ToArray();
            }
            Assert.Equal(expected.Length, actual.Length);
            var scale = expected.Max(Math.Abs);
            var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Assert.True(scale > 0.1, "features of an image are not all zero");
            Assert.True(worst / scale < 1e-4, $"relative difference {worst / scale:E2}");
        }
    }

    [Fact]
    public void The_slim_backbone_keeps_the_first_channels_and_the_engine_normalisation_is_folded_into_the_stem()
    {
        using var full = new ResNet(BackboneKind.ResNet18, 32, 1.0, ImageNetResNet18.Blocks);
        ImageNetResNet18.Load(full);
        var config = ModelConfig.Light(ModelConfig.ParseVariant("mtl_ssw"), 13) with { ImageNetTopology = true };
        using var net = new MtlNet(config);
        using var slim = new ResNet(BackboneKind.ResNet18Slim, config.OutputStride, 0.5, ImageNetResNet18.Blocks);
        ImageNetResNet18.Load(slim);
        var fullConv = full.state_dict()["layer2.0.conv1.weight"];
        var slimConv = slim.state_dict()["layer2.0.conv1.weight"];
        Assert.Equal(new long[] { 64, 32, 3, 3 }, slimConv.shape);
        // Each temporary has one owner: nothing this test makes is left to the finaliser thread.
        using (var rows = fullConv.narrow(0, 0, 64))
        using (var first = rows.narrow(1, 0, 32))
            Assert.True(slimConv.allclose(first));

        // Folding: the network's own normalisation of a BGR image equals the package's convention inside the image.
        net.LoadImageNetBackbone();
        net.eval();
        using var raw = new ResNet(BackboneKind.ResNet18Slim, config.OutputStride, 0.5, ImageNetResNet18.Blocks);
        ImageNetResNet18.Load(raw);
        raw.eval();
        using var _ = no_grad();
        using var bgr = rand(1, 3, 96, 128) * 255;
        using var ours = Preprocess.Normalise(bgr);
        using var mean = TensorFrom.Array(ImageNetResNet18.MeanBgr);
        using var meanNchw = mean.reshape(1, 3, 1, 1);
        using var theirs = bgr - meanNchw;
        var (l1, h1) = net.Backbone.forward(ours);
        var (l2, h2) = raw.forward(theirs);
        using (l1) using (h1) using (l2) using (h2)
        {
            // Compare the stage-1 features away from the border, where zero padding differs between the conventions.
            using var a = l1.narrow(2, 6, l1.shape[2] - 12).narrow(3, 6, l1.shape[3] - 12);
            using var b = l2.narrow(2, 6, l2.shape[2] - 12).narrow(3, 6, l2.shape[3] - 12);
            using var diff = a - b;
            using var absDiff = diff.abs();
            using var worst = absDiff.max();
            using var absB = b.abs();
            using var scale = absB.max();
            var rel = worst.item<float>() / scale.item<float>();
            Assert.True(rel < 1e-4, $"relative difference {rel:E2}");
        }
    }
}
