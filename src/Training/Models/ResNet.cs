using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// ResNet backbone with torchvision's structure and parameter names (conv1, bn1, layer1..layer4,
/// layerN.i.downsample.0), so ImageNet weights trained elsewhere map in by name. Output stride 8, 16 or 32
/// by dilating the last stages (DeepLab). A width multiplier gives the slim real-time variant.
/// Returns the stride-4 features (layer1, for a light decoder) and the deepest features.
/// </summary>
public sealed class ResNet : Module<Tensor, (Tensor Low, Tensor High)>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly BlockList layer1, layer2, layer3, layer4;

    /// <param name="blocks">Blocks per stage instead of the kind's own (the ImageNet ResNet-18 has [2,2,2,3]).</param>
    public ResNet(BackboneKind kind, int outputStride, double widthMultiplier = 1.0, int[]? blocks = null) : base("ResNet")
    {
        var (bottleneck, counts) = kind switch
        {
            BackboneKind.ResNet18 or BackboneKind.ResNet18Slim => (false, new[] { 2, 2, 2, 2 }),
            BackboneKind.ResNet34 => (false, new[] { 3, 4, 6, 3 }),
            BackboneKind.ResNet50 => (true, new[] { 3, 4, 6, 3 }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        if (blocks is { Length: 4 }) counts = blocks;
        if (outputStride is not (8 or 16 or 32)) throw new ArgumentException("output stride must be 8, 16 or 32");
        var dilate3 = outputStride == 8;
        var dilate4 = outputStride <= 16;
        long C(long c) => Math.Max(8, (long)Math.Round(c * widthMultiplier));
        long inplanes = C(64);
        long dilation = 1;
        conv1 = Conv2d(3, inplanes, 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(inplanes);
        BlockList Layer(long planes, int blocks, long stride, bool dilate)
        {
            var previous = dilation;
            if (dilate) { dilation *= stride; stride = 1; }
            var list = new List<ResidualBlock> { new(inplanes, planes, bottleneck, stride, dilation, previous) };
            inplanes = list[0].OutChannels;
            for (var i = 1; i < blocks; i++) list.Add(new ResidualBlock(inplanes, planes, bottleneck, 1, dilation));
            return new BlockList(list);
        }
        layer1 = Layer(C(64), counts[0], 1, false);
        LowChannels = inplanes;
        layer2 = Layer(C(128), counts[1], 2, false);
        layer3 = Layer(C(256), counts[2], 2, dilate3);
        layer4 = Layer(C(512), counts[3], 2, dilate4);
        OutChannels = inplanes;
        RegisterComponents();
    }

    public long LowChannels { get; }
    public long OutChannels { get; }

    public override (Tensor Low, Tensor High) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.forward(conv1.forward(x)));
        y = functional.max_pool2d(y, 3, 2, 1);
        var low = layer1.forward(y);
        var high = layer4.forward(layer3.forward(layer2.forward(low)));
        return (low.MoveToOuterDisposeScope(), high.MoveToOuterDisposeScope());
    }

    public (string Low, long LowH, long LowW, string High, long H, long W) Export(OnnxGraph g, string input, long h, long w)
    {
        var y = OnnxOps.Relu(g, OnnxOps.ConvBn(g, input, conv1, bn1, "conv1", 2, 3, 1));
        h = (h - 1) / 2 + 1; w = (w - 1) / 2 + 1;
        y = g.Node("MaxPool", [y], "maxpool", OnnxAttribute.Of("kernel_shape", new[] { 3L, 3L }),
            OnnxAttribute.Of("strides", new[] { 2L, 2L }), OnnxAttribute.Of("pads", new[] { 1L, 1L, 1L, 1L }));
        h = (h - 1) / 2 + 1; w = (w - 1) / 2 + 1;
        var (low, lh, lw) = layer1.Export(g, y, h, w);
        var (high, hh, hw) = layer4.Export(g, layer3.Export(g, layer2.Export(g, low, lh, lw)));
        return (low, lh, lw, high, hh, hw);
    }
}

/// <summary>Blocks applied in order, registered as "0", "1", ... like a torchvision Sequential.</summary>
public sealed class BlockList : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly List<Module<Tensor, Tensor>> _blocks;

    public BlockList(IEnumerable<Module<Tensor, Tensor>> blocks) : base("BlockList")
    {
        _blocks = blocks.ToList();
        for (var i = 0; i < _blocks.Count; i++) register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), _blocks[i]);
    }

    public override Tensor forward(Tensor x)
    {
        var y = x;
        foreach (var b in _blocks)
        {
            var next = b.forward(y);
            if (!ReferenceEquals(y, x)) y.Dispose();
            y = next;
        }
        return y;
    }

    public (string Value, long H, long W) Export(OnnxGraph g, string input, long h, long w)
    {
        var r = (input, h, w);
        foreach (var b in _blocks) r = ((IOnnxExportable)b).Export(g, r.input, r.h, r.w);
        return r;
    }
}

public static class ExportExtensions
{
    public static (string Value, long H, long W) Export(this BlockList b, OnnxGraph g, (string Value, long H, long W) x) => b.Export(g, x.Value, x.H,
        x.W);
}
