using RealtimeMtl.Training.Models;

namespace RealtimeMtl.Training.Tests;

[Collection(LibTorchInProcess.Name)]
public class OnnxParityTests
{
    public static TheoryData<Variant> Variants() => new(Enum.GetValues<Variant>());

    [Theory]
    [MemberData(nameof(Variants))]
    public void Exported_graph_matches_TorchSharp_for_every_variant(Variant variant)
    {
        using var net = TestModels.Create(TestModels.Small(variant), 7 + 13 * (int)variant);
        var c = net.Config;
        var image = TestModels.RandomImage(2, c.InputHeight, c.InputWidth, 3);
        var (refLabels, refDepth) = TestModels.TorchPredict(net, image, 2);
        var (labels, depth, confidence) = TestModels.OrtPredict(TestModels.Export(net), image, 2, c.InputHeight, c.InputWidth);

        Assert.Equal(refLabels.Length, labels.Length);
        var agree = refLabels.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
        Assert.True(agree > 0.999, $"label agreement {agree:P3}");
        var maxDiff = refDepth.Zip(depth).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(maxDiff < 1e-3, $"depth max abs diff {maxDiff} m");
        if (c.HasSegmentation)
        {
            Assert.All(confidence, v => Assert.InRange(v, 1f / c.NumClasses - 1e-4f, 1.0001f));
            // Non-vacuous: the logits vary across pixels (not a constant map that agrees trivially).
            Assert.True(confidence.Max() - confidence.Min() > 1e-3, "confidence should vary across pixels");
        }
        if (c.HasDepth) Assert.True(refDepth.Max() > 0, "depth should not be all clipped");
    }

    [Fact]
    public void Paper_sized_backbone_exports_with_dilation_to_output_stride_8()
    {
        using var net = TestModels.Create(ModelConfig.Paper(Variant.MtlSsw) with { InputWidth = 96, InputHeight = 64 }, 11);
        var image = TestModels.RandomImage(1, 64, 96, 5);
        var (refLabels, refDepth) = TestModels.TorchPredict(net, image, 1);
        var (labels, depth, _) = TestModels.OrtPredict(TestModels.Export(net), image, 1, 64, 96);
        var agree = refLabels.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
        Assert.True(agree > 0.999, $"label agreement {agree:P3}");
        Assert.True(refDepth.Zip(depth).Max(p => Math.Abs(p.First - p.Second)) < 1e-3);
    }
}
