using static TorchSharp.torch;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// Tensors made from managed arrays by copying into memory LibTorch owns. TorchSharp's <c>tensor(array)</c> backs the
/// tensor with a pinned copy and a managed deleter that LibTorch calls back when the storage dies, from whichever
/// thread drops it last; the suite's rare LibTorch crash (issue 36) is a use after free on such paths, so training and
/// its tests make their tensors without any callback.
/// </summary>
public static class TensorFrom
{
    public static Tensor Array(float[] data, params long[] shape)
    {
        var t = empty(shape.Length == 0 ? [data.LongLength] : shape, ScalarType.Float32);
        t.data<float>().CopyFrom(data);
        return t;
    }

    public static Tensor Array(byte[] data, params long[] shape)
    {
        var t = empty(shape.Length == 0 ? [data.LongLength] : shape, ScalarType.Byte);
        t.data<byte>().CopyFrom(data);
        return t;
    }
}
