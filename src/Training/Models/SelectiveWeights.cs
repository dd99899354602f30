using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// Selective weights (SW), the cross-task module of MTL_SSW. Our reading of the paper, fitted to its abstract and
/// its parameter column: each task's features are guided by the other task's features through a trainable 2x2
/// weight matrix W (rows: receiving task seg/depth; columns: self/cross), initialised self 0.9 / cross 0.1
/// (Table 5's best). For task t with partner u:
///   guide_t = ReLU(BN(Conv3x3(x_u)))                       (the partner's features, transformed for t)
///   out_t   = ReLU(BN(Conv1x1(concat[W[t,t] * x_t, W[t,u] * guide_t])))
/// so W selects how much of each source flows in, and the 1x1 conv learns how to merge them.
/// </summary>
public sealed class SelectiveWeights : Module<Tensor, Tensor, (Tensor Seg, Tensor Depth)>
{
    private readonly Parameter weights;
    private readonly ConvBnRelu seg_from_depth, depth_from_seg, seg_fuse, depth_fuse;

    public SelectiveWeights(long channels, long guideChannels, float self = 0.9f, float cross = 0.1f) : base("SelectiveWeights")
    {
        weights = new Parameter(TensorFrom.Array(new[] { self, cross, self, cross }, 2, 2));
        seg_from_depth = new ConvBnRelu(channels, guideChannels, 3);
        depth_from_seg = new ConvBnRelu(channels, guideChannels, 3);
        seg_fuse = new ConvBnRelu(channels + guideChannels, channels, 1);
        depth_fuse = new ConvBnRelu(channels + guideChannels, channels, 1);
        RegisterComponents();
    }

    /// <summary>The weight matrix [[seg self, seg cross], [depth self, depth cross]].</summary>
    public float[] WeightMatrix => weights.detach().cpu().data<float>().ToArray();

    public override (Tensor Seg, Tensor Depth) forward(Tensor seg, Tensor depth)
    {
        using var scope = NewDisposeScope();
        var guideSeg = seg_from_depth.forward(depth);
        var guideDepth = depth_from_seg.forward(seg);
        var s = seg_fuse.forward(cat([seg * weights[0, 0], guideSeg * weights[0, 1]], 1));
        var d = depth_fuse.forward(cat([depth * weights[1, 0], guideDepth * weights[1, 1]], 1));
        return (s.MoveToOuterDisposeScope(), d.MoveToOuterDisposeScope());
    }

    public (string Seg, string Depth) Export(OnnxGraph g, string seg, string depth, long h, long w)
    {
        var m = WeightMatrix;
        string Scale(string x, float v) => g.Node("Mul", [x, g.Initializer("sw_w", [v])]);
        var guideSeg = seg_from_depth.Export(g, depth, h, w).Value;
        var guideDepth = depth_from_seg.Export(g, seg, h, w).Value;
        var s = seg_fuse.Export(g, g.Node("Concat", [Scale(seg, m[0]), Scale(guideSeg, m[1])], "sw_concat", OnnxAttribute.Of("axis", 1L)), h,
            w).Value;
        var d = depth_fuse.Export(g, g.Node("Concat", [Scale(depth, m[2]), Scale(guideDepth, m[3])], "sw_concat", OnnxAttribute.Of("axis", 1L)), h,
            w).Value;
        return (s, d);
    }
}
