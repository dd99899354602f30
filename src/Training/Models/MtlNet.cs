using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// The MTL_SSW family: a shared ResNet backbone, then per task an SE sub-network (SE-bottleneck blocks), a head
/// (ASPP, pyramid pooling or FCN), optional selective weights between the two tasks' features, an optional light
/// decoder, and a 1x1 classifier. Outputs are upsampled to the input size: segmentation logits [N,K,H,W] and
/// depth in metres [N,1,H,W]. Which parts exist is decided by <see cref="ModelConfig"/>.
/// </summary>
public sealed class MtlNet : Module<Tensor, (Tensor Seg, Tensor Depth)>
{
    private readonly ResNet backbone;
    private readonly BlockList? seg_se, depth_se;
    private readonly Module<Tensor, Tensor>? seg_head, depth_head;
    private readonly SelectiveWeights? sw;
    private readonly SkipDecoder? seg_decoder, depth_decoder;
    private readonly Conv2d? seg_classifier, depth_classifier;

    public MtlNet(ModelConfig config) : base("MtlNet")
    {
        config.Validate();
        Config = config;
        backbone = new ResNet(config.Backbone, config.OutputStride, config.Backbone == BackboneKind.ResNet18Slim ? 0.5 : 1.0,
            config.ImageNetTopology && config.Backbone is BackboneKind.ResNet18 or BackboneKind.ResNet18Slim ? ImageNetResNet18.Blocks : null);
        var c = backbone.OutChannels;
        if (config.Sw == SwPlacement.Backbone) sw = new SelectiveWeights(c, config.SwGuideChannels, config.SwSelf, config.SwCross);
        if (config.HasSegmentation) (seg_se, seg_head, seg_decoder, seg_classifier) = Branch(config.NumClasses);
        if (config.HasDepth) (depth_se, depth_head, depth_decoder, depth_classifier) = Branch(1);
        if (config.Sw == SwPlacement.Head) sw = new SelectiveWeights(config.HeadChannels, config.SwGuideChannels, config.SwSelf, config.SwCross);
        RegisterComponents();
        // Start depth near a typical indoor distance: training converges faster and no output begins clipped at 0.
        if (depth_classifier?.bias is { } b) using (no_grad()) b.fill_(config.MaxDepth / 4);

        (BlockList?, Module<Tensor, Tensor>, SkipDecoder?, Conv2d) Branch(long outputs)
        {
            BlockList? se = config.SeBlocks > 0
                ? new BlockList(Enumerable.Range(0, config.SeBlocks).Select(_ => new ResidualBlock(c, c / 4, bottleneck: true,
                    seReduction: config.SeReduction, width: config.SeWidth)))
                : null;
            Module<Tensor, Tensor> head = config.Head switch
            {
                HeadKind.Aspp => new AsppHead(c, config.HeadChannels, config.AsppRates),
                HeadKind.PyramidPooling => new PyramidPoolingHead(c, config.HeadChannels, config.PpSeReduction),
                _ => new FcnHead(c, config.HeadChannels),
            };
            var decoder = config.DecoderChannels > 0 ? new SkipDecoder(backbone.LowChannels, config.HeadChannels, 24, config.DecoderChannels) : null;
            var classifier = Conv2d(config.DecoderChannels > 0 ? config.DecoderChannels : config.HeadChannels, outputs, 1);
            return (se, head, decoder, classifier);
        }
    }

    public ModelConfig Config { get; }
    public ResNet Backbone => backbone;

    /// <summary>
    /// Starts the backbone from the ImageNet ResNet-18 (--pretrained imagenet): weights mapped by topology, the
    /// engine's input normalisation folded into the stem. Needs a config with <see cref="ModelConfig.ImageNetTopology"/>.
    /// </summary>
    public int LoadImageNetBackbone(string? onnxPath = null)
    {
        if (!Config.ImageNetTopology || Config.Backbone is not (BackboneKind.ResNet18 or BackboneKind.ResNet18Slim))
            throw new ArgumentException("--pretrained imagenet needs a resnet18 or resnet18-slim backbone");
        var n = ImageNetResNet18.Load(backbone, onnxPath);
        ImageNetResNet18.FoldInputNormalisation(backbone, MeanBgr.Select(m => m * 255f).ToArray(), StdBgr.Select(s => s * 255f).ToArray());
        return n;
    }

    /// <summary>Mean and std per channel in BGR order (ImageNet statistics), applied to 0..255 pixels / 255.</summary>
    public static readonly float[] MeanBgr = [0.406f, 0.456f, 0.485f];
    public static readonly float[] StdBgr = [0.225f, 0.224f, 0.229f];

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Input: normalised float [N,3,H,W]. Output: (segmentation logits or empty, depth in metres or empty).</summary>
    public override (Tensor Seg, Tensor Depth) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long h = x.shape[2], w = x.shape[3];
        var (low, high) = backbone.forward(x);
        Tensor segF = high, depthF = high;
        if (Config.Sw == SwPlacement.Backbone) (segF, depthF) = sw!.forward(high, high);
        Tensor? s = null, d = null;
        if (seg_head is not null) s = seg_head.forward(seg_se is null ? segF : seg_se.forward(segF));
        if (depth_head is not null) d = depth_head.forward(depth_se is null ? depthF : depth_se.forward(depthF));
        if (Config.Sw == SwPlacement.Head) (s, d) = sw!.forward(s!, d!);
        Tensor Finish(Tensor f, SkipDecoder? dec, Conv2d cls) =>
            functional.interpolate(cls.forward(dec is null ? f : dec.forward(f, low)), [h, w], mode: InterpolationMode.Bilinear,
                align_corners: false);
        var seg = s is null ? empty(0) : Finish(s, seg_decoder, seg_classifier!);
        var depth = d is null ? empty(0) : Finish(d, depth_decoder, depth_classifier!);
        return (seg.MoveToOuterDisposeScope(), depth.MoveToOuterDisposeScope());
    }

    /// <summary>Emits the network on a normalised NCHW input; returns (seg logits or null, depth or null) at input size.</summary>
    public (string? Seg, string? Depth) ExportCore(OnnxGraph g, string x, long h, long w)
    {
        var (low, lowH, lowW, high, fh, fw) = backbone.Export(g, x, h, w);
        string segF = high, depthF = high;
        if (Config.Sw == SwPlacement.Backbone) (segF, depthF) = sw!.Export(g, high, high, fh, fw);
        string? s = null, d = null;
        if (seg_head is not null)
        {
            var input = seg_se is null ? segF : seg_se.Export(g, segF, fh, fw).Value;
            s = ((IOnnxExportable)seg_head).Export(g, input, fh, fw).Value;
        }
        if (depth_head is not null)
        {
            var input = depth_se is null ? depthF : depth_se.Export(g, depthF, fh, fw).Value;
            d = ((IOnnxExportable)depth_head).Export(g, input, fh, fw).Value;
        }
        if (Config.Sw == SwPlacement.Head) (s, d) = sw!.Export(g, s!, d!, fh, fw);
        string Finish(string f, SkipDecoder? dec, Conv2d cls, string name)
        {
            var feat = dec is null ? f : dec.Export(g, f, low, lowH, lowW).Value;
            var y = OnnxOps.ConvBn(g, feat, cls, null, name, 1, 0, 1);
            return OnnxOps.ResizeTo(g, y, h, w);
        }
        return (s is null ? null : Finish(s, seg_decoder, seg_classifier!, "seg_classifier"),
                d is null ? null : Finish(d, depth_decoder, depth_classifier!, "depth_classifier"));
    }

    public SelectiveWeights? SelectiveWeightsModule => sw;
}
