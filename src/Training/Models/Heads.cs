using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// DeepLab-v3 head (torchvision DeepLabHead): ASPP with a 1x1 branch, three dilated 3x3 branches and an image
/// pooling branch (convs.0..4), a 1x1 projection (project), then a 3x3 conv (conv). The baseline head of the
/// survey setup the paper follows (rates 12/24/36 at output stride 8, 256 channels).
/// </summary>
public sealed class AsppHead : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly ModuleList<ConvBnRelu> convs;
    private readonly ConvBnRelu project, conv;

    public AsppHead(long inChannels, long channels, int[] rates) : base("AsppHead")
    {
        var branches = new List<ConvBnRelu> { new(inChannels, channels, 1) };
        branches.AddRange(rates.Select(r => new ConvBnRelu(inChannels, channels, 3, dilation: r)));
        branches.Add(new ConvBnRelu(inChannels, channels, 1)); // image pooling branch
        convs = new ModuleList<ConvBnRelu>(branches.ToArray());
        project = new ConvBnRelu(channels * branches.Count, channels, 1);
        conv = new ConvBnRelu(channels, channels, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long h = x.shape[2], w = x.shape[3];
        var outs = new List<Tensor>();
        for (var i = 0; i < convs.Count - 1; i++) outs.Add(convs[i].forward(x));
        var pooled = convs[^1].forward(functional.adaptive_avg_pool2d(x, [1, 1]));
        outs.Add(functional.interpolate(pooled, [h, w], mode: InterpolationMode.Bilinear, align_corners: false));
        var y = project.forward(cat(outs, 1));
        y = functional.dropout(y, 0.1, training);
        return conv.forward(y).MoveToOuterDisposeScope();
    }

    public (string Value, long H, long W) Export(OnnxGraph g, string input, long h, long w)
    {
        var outs = new List<string>();
        for (var i = 0; i < convs.Count - 1; i++) outs.Add(convs[i].Export(g, input, h, w).Value);
        var pooled = convs[^1].Export(g, g.Node("GlobalAveragePool", [input]), 1, 1).Value;
        outs.Add(OnnxOps.ResizeTo(g, pooled, h, w));
        var y = project.Export(g, g.Node("Concat", outs.ToArray(), "aspp_concat", OnnxAttribute.Of("axis", 1L)), h, w).Value;
        return conv.Export(g, y, h, w);
    }
}

/// <summary>
/// Pyramid pooling (PSPNet, Zhao et al. 2017): average-pool into 1, 2, 3 and 6 bins, 1x1 conv each to C/4,
/// upsample, concatenate with the input (2C channels), optionally re-weight the concatenation with an SE gate
/// (MTL_SPP: SE inside the enhanced features), then a 3x3 bottleneck conv.
/// </summary>
public sealed class PyramidPoolingHead : Module<Tensor, Tensor>, IOnnxExportable
{
    private static readonly long[] Bins = [1, 2, 3, 6];
    private readonly ModuleList<ConvBnRelu> stages;
    private readonly SqueezeExcitation? se;
    private readonly ConvBnRelu bottleneck;

    public PyramidPoolingHead(long inChannels, long channels, long seReduction = 0) : base("PyramidPoolingHead")
    {
        stages = new ModuleList<ConvBnRelu>(Bins.Select(_ => new ConvBnRelu(inChannels, inChannels / 4, 1)).ToArray());
        var concat = inChannels + 4 * (inChannels / 4);
        if (seReduction > 0) se = new SqueezeExcitation(concat, Math.Max(1, concat / seReduction));
        bottleneck = new ConvBnRelu(concat, channels, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long h = x.shape[2], w = x.shape[3];
        var outs = new List<Tensor> { x };
        for (var i = 0; i < Bins.Length; i++)
        {
            var p = stages[i].forward(functional.adaptive_avg_pool2d(x, [Bins[i], Bins[i]]));
            outs.Add(functional.interpolate(p, [h, w], mode: InterpolationMode.Bilinear, align_corners: false));
        }
        var y = cat(outs, 1);
        if (se is not null) y = se.forward(y);
        return bottleneck.forward(y).MoveToOuterDisposeScope();
    }

    public (string Value, long H, long W) Export(OnnxGraph g, string input, long h, long w)
    {
        var outs = new List<string> { input };
        for (var i = 0; i < Bins.Length; i++)
        {
            long bh = Bins[i], bw = Bins[i];
            var pooled = OnnxOps.AdaptiveAvgPool(g, input, h, w, bh, bw);
            var p = stages[i].Export(g, pooled, bh, bw).Value;
            outs.Add(OnnxOps.ResizeTo(g, p, h, w));
        }
        var y = g.Node("Concat", outs.ToArray(), "ppm_concat", OnnxAttribute.Of("axis", 1L));
        if (se is not null) y = se.Export(g, y, h, w).Value;
        return bottleneck.Export(g, y, h, w);
    }
}

/// <summary>FCN head: one 3x3 conv to the head width (the plain task-specific head of MTL_SE).</summary>
public sealed class FcnHead : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly ConvBnRelu conv;

    public FcnHead(long inChannels, long channels) : base("FcnHead")
    {
        conv = new ConvBnRelu(inChannels, channels, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => conv.forward(x);
    public (string Value, long H, long W) Export(OnnxGraph g, string input, long h, long w) => conv.Export(g, input, h, w);
}

/// <summary>
/// Light decoder (DeepLab-v3+ style): upsample head features to stride 4, concatenate a 1x1 projection of the
/// stride-4 backbone features, refine with a 3x3 conv. Used by the real-time models only.
/// </summary>
public sealed class SkipDecoder : Module<Tensor, Tensor, Tensor>
{
    private readonly ConvBnRelu reduce, fuse;

    public SkipDecoder(long lowChannels, long headChannels, long skipChannels, long outChannels) : base("SkipDecoder")
    {
        reduce = new ConvBnRelu(lowChannels, skipChannels, 1);
        fuse = new ConvBnRelu(headChannels + skipChannels, outChannels, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor head, Tensor low)
    {
        using var scope = NewDisposeScope();
        var up = functional.interpolate(head, [low.shape[2], low.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);
        return fuse.forward(cat([up, reduce.forward(low)], 1)).MoveToOuterDisposeScope();
    }

    public (string Value, long H, long W) Export(OnnxGraph g, string head, string low, long lowH, long lowW)
    {
        var up = OnnxOps.ResizeTo(g, head, lowH, lowW);
        var skip = reduce.Export(g, low, lowH, lowW).Value;
        return fuse.Export(g, g.Node("Concat", [up, skip], "decoder_concat", OnnxAttribute.Of("axis", 1L)), lowH, lowW);
    }
}
