using static TorchSharp.torch;

namespace RealtimeMtl.Training.Models;

/// <summary>The same input transform the exported graph applies: BGR bytes NHWC -> normalised float NCHW.</summary>
public static class Preprocess
{
    public static Tensor FromBgrBytes(byte[] bgr, int n, int h, int w)
    {
        using var scope = NewDisposeScope();
        var t = TensorFrom.Array(bgr, n, h, w, 3).permute(0, 3, 1, 2).to_type(ScalarType.Float32);
        return Normalise(t).MoveToOuterDisposeScope();
    }

    /// <summary>x: float NCHW in 0..255, BGR.</summary>
    public static Tensor Normalise(Tensor x)
    {
        using var scope = NewDisposeScope();
        var mean = TensorFrom.Array(MtlNet.MeanBgr.Select(m => m * 255f).ToArray(), 1, 3, 1, 1).to(x.device);
        var std = TensorFrom.Array(MtlNet.StdBgr.Select(s => s * 255f).ToArray(), 1, 3, 1, 1).to(x.device);
        return ((x - mean) / std).MoveToOuterDisposeScope();
    }
}
