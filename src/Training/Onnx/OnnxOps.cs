using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Onnx;

/// <summary>Helpers the modules use to emit themselves into an <see cref="OnnxGraph"/>.</summary>
public static class OnnxOps
{
    public static float[] ToFloats(Tensor t) => t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>Conv with BatchNorm folded in: w' = w * g / sqrt(v + eps), b' = beta + (b - mean) * g / sqrt(v + eps).</summary>
    public static string ConvBn(OnnxGraph g, string x, Conv2d conv, BatchNorm2d? bn, string name, long stride, long padding, long dilation,
        long groups = 1)
    {
        // Temporaries are freed here, on this thread, not later by the finalizer while LibTorch runs elsewhere.
        using var scope = NewDisposeScope();
        var w = conv.weight!.detach();
        var outC = w.shape[0];
        Tensor bias = conv.bias is { } b ? b.detach() : zeros(outC);
        if (bn is not null)
        {
            var scale = bn.weight!.detach() / sqrt(bn.running_var!.detach() + bn.eps);
            w = w * scale.reshape(outC, 1, 1, 1);
            bias = bn.bias!.detach() + (bias - bn.running_mean!.detach()) * scale;
        }
        var wName = g.Initializer(name + ".weight", ToFloats(w), w.shape);
        var bName = g.Initializer(name + ".bias", ToFloats(bias), outC);
        var k = w.shape[2];
        return g.Node("Conv", [x, wName, bName], name,
            OnnxAttribute.Of("kernel_shape", new[] { k, w.shape[3] }),
            OnnxAttribute.Of("strides", new[] { stride, stride }),
            OnnxAttribute.Of("pads", new[] { padding, padding, padding, padding }),
            OnnxAttribute.Of("dilations", new[] { dilation, dilation }),
            OnnxAttribute.Of("group", groups));
    }

    public static string Relu(OnnxGraph g, string x) => g.Node("Relu", [x]);

    /// <summary>Bilinear resize to a fixed spatial size (align_corners=false = half_pixel), keeping N and C dynamic.</summary>
    public static string ResizeTo(OnnxGraph g, string x, long h, long w, string mode = "linear")
    {
        var shape = g.Node("Shape", [x]);
        var starts = g.Initializer("rs_start", [0L], 1);
        var ends = g.Initializer("rs_end", [2L], 1);
        var nc = g.Node("Slice", [shape, starts, ends]);
        var hw = g.Initializer("rs_hw", [h, w], 2);
        var sizes = g.Node("Concat", [nc, hw], null, OnnxAttribute.Of("axis", 0L));
        return g.Node("Resize", [x, "", "", sizes], null,
            OnnxAttribute.Of("mode", mode),
            OnnxAttribute.Of("coordinate_transformation_mode", mode == "nearest" ? "asymmetric" : "half_pixel"),
            OnnxAttribute.Of("nearest_mode", "floor"));
    }

    /// <summary>
    /// adaptive_avg_pool2d to (bh, bw) for a fixed input size, as two MatMuls with averaging matrices whose bins
    /// follow PyTorch's start = floor(i*H/b), end = ceil((i+1)*H/b). Exact for any size, unlike AveragePool.
    /// </summary>
    public static string AdaptiveAvgPool(OnnxGraph g, string x, long h, long w, long bh, long bw)
    {
        if (bh == 1 && bw == 1) return g.Node("GlobalAveragePool", [x]);
        var pw = PoolMatrix(w, bw, transpose: true);   // [W, bw]
        var ph = PoolMatrix(h, bh, transpose: false);  // [bh, H]
        var pwName = g.Initializer("pool_w", pw, w, bw);
        var phName = g.Initializer("pool_h", ph, bh, h);
        var xw = g.Node("MatMul", [x, pwName]);
        return g.Node("MatMul", [phName, xw]);
    }

    public static float[] PoolMatrix(long size, long bins, bool transpose)
    {
        var m = new float[size * bins];
        for (var i = 0; i < bins; i++)
        {
            var start = (int)Math.Floor(i * (double)size / bins);
            var end = (int)Math.Ceiling((i + 1) * (double)size / bins);
            var v = 1f / (end - start);
            for (var j = start; j < end; j++)
            {
                if (transpose) m[j * bins + i] = v;
                else m[i * size + j] = v;
            }
        }
        return m;
    }
}
