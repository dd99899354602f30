using RealtimeMtl.Training.Models;

namespace RealtimeMtl.Training.Tests;

/// <summary>The paper's parameter column (units of 2^20, 40 classes, ResNet-50 dilated): our reading must land within 5 %.</summary>
[Collection(LibTorchInProcess.Name)]
public class ParameterCountTests
{
    [Theory]
    [InlineData(Variant.StlAsppSeg, 37.82)]
    [InlineData(Variant.Mtl, 53.18)]
    [InlineData(Variant.MtlSe, 55.11)]
    [InlineData(Variant.MtlPp, 66.43)]
    [InlineData(Variant.MtlSpp, 83.91)]
    [InlineData(Variant.MtlSsw, 89.9)]
    [InlineData(Variant.MtlSeAspp, 68.5)]
    [InlineData(Variant.MtlSwPp, 103.2)]
    public void Paper_sized_variant_matches_the_papers_parameter_count(Variant variant, double paperMi)
    {
        using var net = new MtlNet(ModelConfig.Paper(variant));
        var mi = net.ParameterCount / 1048576.0;
        Assert.InRange(mi, paperMi * 0.95, paperMi * 1.05);
    }

    [Fact]
    public void Selective_weights_start_at_the_papers_best_initialisation()
    {
        using var net = new MtlNet(ModelConfig.Light(Variant.MtlSsw));
        Assert.Equal([0.9f, 0.1f, 0.9f, 0.1f], net.SelectiveWeightsModule!.WeightMatrix);
        using var other = new MtlNet(ModelConfig.Light(Variant.MtlSsw) with { SwSelf = 0.2f, SwCross = 0.8f });
        Assert.Equal([0.2f, 0.8f, 0.2f, 0.8f], other.SelectiveWeightsModule!.WeightMatrix);
    }

    [Fact]
    public void Backbone_parameter_names_follow_torchvision()
    {
        using var net = new MtlNet(ModelConfig.Paper(Variant.Mtl));
        var names = net.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("backbone.conv1.weight", names);
        Assert.Contains("backbone.bn1.weight", names);
        Assert.Contains("backbone.layer1.0.conv3.weight", names);
        Assert.Contains("backbone.layer1.0.downsample.0.weight", names);
        Assert.Contains("backbone.layer4.2.bn3.bias", names);
        Assert.Contains("seg_head.convs.0.0.weight", names);
    }
}
