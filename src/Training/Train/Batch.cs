using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Models;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Train;

/// <summary>Samples stacked into tensors on a device: normalised image, int64 labels, depth in metres.</summary>
public sealed record Batch(Tensor Image, Tensor Labels, Tensor Depth)
{
    public static Batch From(IReadOnlyList<Sample> samples, Device device)
    {
        int n = samples.Count, h = samples[0].Height, w = samples[0].Width;
        var img = new byte[n * h * w * 3];
        var lab = new byte[n * h * w];
        var dep = new float[n * h * w];
        for (var i = 0; i < n; i++)
        {
            var s = samples[i];
            if (s.Width != w || s.Height != h) throw new ArgumentException("samples in a batch must share one size");
            s.Image.CopyTo(img, i * h * w * 3);
            s.Labels.CopyTo(lab, i * h * w);
            s.Depth.CopyTo(dep, i * h * w);
        }
        var image = Preprocess.FromBgrBytes(img, n, h, w).to(device);
        var labels = TensorFrom.Array(lab, n, h, w).to_type(ScalarType.Int64).to(device);
        var depth = TensorFrom.Array(dep, n, 1, h, w).to(device);
        return new Batch(image, labels, depth);
    }
}
