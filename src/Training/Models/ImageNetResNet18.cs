using TorchSharp;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// The ImageNet-trained ResNet-18 of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package (a CNTK export, ONNX opset 8),
/// read with the project's own ONNX reader and mapped onto the TorchSharp <see cref="ResNet"/> by topology: the stem
/// conv + BatchNorm, then per residual block its 3x3 convs in graph order, and the 1x1 stride-2 projections as each
/// stage's downsample. Conventions of that graph, checked against ONNX Runtime by the parity test:
///   - its layer4 has three blocks ([2,2,2,3]), so an ImageNet backbone is built with that topology;
///   - padding is CNTK "same" (stem 3/2, stride-2 3x3 convs 1/0, max pool 1/0 before/after): for even input sizes it
///     samples exactly as PyTorch's symmetric padding;
///   - BatchNorm epsilon 1e-5, as PyTorch's;
///   - input: BGR in 0..255 minus a mean image (ResNetPreprocess.onnx), no division; its per-channel means are
///     <see cref="MeanBgr"/>.
/// A narrower backbone (resnet18-slim) keeps the first channels of every weight.
/// </summary>
public static class ImageNetResNet18
{
    public const string PackageId = "microsoft.ml.dnnimagefeaturizer.resnet18";
    public const string PackageVersion = "0.23.1";

    /// <summary>Per-channel means (B, G, R, in 0..255) of the package's ResNetPreprocess mean image.</summary>
    public static readonly float[] MeanBgr = [103.0626f, 115.9029f, 123.1516f];

    /// <summary>Layer counts of the pretrained graph.</summary>
    public static readonly int[] Blocks = [2, 2, 2, 3];

    /// <summary>Where NuGet restored the package's ONNX file (the build downloads it; it is never committed).</summary>
    public static string DefaultPath()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, PackageId, PackageVersion, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
    }

    public static string PreprocessPath() =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(DefaultPath()))!, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>Copies the pretrained weights into <paramref name="backbone"/>; returns how many tensors were set.</summary>
    public static int Load(ResNet backbone, string? onnxPath = null)
    {
        onnxPath ??= DefaultPath();
        if (!File.Exists(onnxPath))
            throw new FileNotFoundException($"the ImageNet ResNet-18 weights '{onnxPath}' are missing; the build restores them from NuGet " +
                $"({PackageId} {PackageVersion}): run ./rtmtl build, or train with --pretrained none.");
        var graph = OnnxGraph.Parse(File.ReadAllBytes(onnxPath));
        var init = graph.Initializers.ToDictionary(i => i.Name);
        var consumers = graph.Nodes.SelectMany(n => n.Inputs.Select(i => (i, n))).ToLookup(x => x.i, x => x.n);
        // Each Conv with the BatchNormalization that consumes its output.
        var pairs = graph.Nodes.Where(n => n.Op == "Conv")
            .Select(c => (Conv: c, Bn: consumers[c.Outputs[0]].Single(n => n.Op == "BatchNormalization"))).ToList();
        var projections = pairs.Where(p => init[p.Conv.Inputs[1]].Dims[2] == 1).ToList();
        var main = pairs.Where(p => init[p.Conv.Inputs[1]].Dims[2] != 1).ToList();
        var state = backbone.state_dict();
        var set = 0;
        void Put(string prefix, (OnnxNode Conv, OnnxNode Bn) p)
        {
            Copy(state[$"{prefix}.weight"], init[p.Conv.Inputs[1]], prefix + ".weight");
            set++;
        }
        void PutBn(string prefix, OnnxNode bn)
        {
            Copy(state[$"{prefix}.weight"], init[bn.Inputs[1]], prefix + ".weight");
            Copy(state[$"{prefix}.bias"], init[bn.Inputs[2]], prefix + ".bias");
            Copy(state[$"{prefix}.running_mean"], init[bn.Inputs[3]], prefix + ".running_mean");
            Copy(state[$"{prefix}.running_var"], init[bn.Inputs[4]], prefix + ".running_var");
            set += 4;
        }
        Put("conv1", main[0]);
        PutBn("bn1", main[0].Bn);
        var k = 1;
        for (var layer = 0; layer < 4; layer++)
        {
            for (var b = 0; b < Blocks[layer]; b++)
            {
                var prefix = $"layer{layer + 1}.{b}";
                if (!state.ContainsKey($"{prefix}.conv1.weight")) throw new
                    InvalidOperationException($"backbone has no {prefix}: build it with the ImageNet topology [2,2,2,3]");
                Put($"{prefix}.conv1", main[k]); PutBn($"{prefix}.bn1", main[k].Bn); k++;
                Put($"{prefix}.conv2", main[k]); PutBn($"{prefix}.bn2", main[k].Bn); k++;
                if (b == 0 && layer > 0)
                {
                    var proj = projections[layer - 1];
                    Put($"{prefix}.downsample.0", proj);
                    PutBn($"{prefix}.downsample.1", proj.Bn);
                }
            }
        }
        if (k != main.Count) throw new InvalidDataException($"'{onnxPath}' has {main.Count} main-path convs; the ResNet-18 mapping used {k}");
        return set;
    }

    /// <summary>
    /// The engine normalises its input as (BGR - mean) / std with ImageNet statistics; this graph wants BGR minus its
    /// own channel means. Rewriting the stem makes both the same away from the image border: the stem weights are
    /// scaled by std per input channel, and the constant left over, sum(W) * (mean - own mean), moves into bn1's
    /// running mean (the stem has no bias). Only the 3-pixel border, where zero padding means a different colour in
    /// each convention, differs slightly; fine-tuning absorbs it.
    /// </summary>
    public static void FoldInputNormalisation(ResNet backbone, float[] mean255Bgr, float[] std255Bgr)
    {
        using var _ = no_grad();
        var state = backbone.state_dict();
        var w = state["conv1.weight"];
        var rm = state["bn1.running_mean"];
        using var scale = TensorFrom.Array(std255Bgr, 1, 3, 1, 1).to(w.device);
        using var shift = TensorFrom.Array(mean255Bgr.Zip(MeanBgr, (a, b) => a - b).ToArray(), 1, 3, 1, 1).to(w.device);
        using var d = (w * shift).sum([1L, 2L, 3L]);
        rm.sub_(d);
        w.mul_(scale);
    }

    /// <summary>Copies an initializer into a parameter or buffer; a narrower target takes the first channels.</summary>
    private static void Copy(Tensor target, OnnxInitializer source, string name)
    {
        using var _ = no_grad();
        var values = source.Floats();
        using var full = TensorFrom.Array(values, source.Dims);
        var t = full;
        for (var d = 0; d < target.dim(); d++)
        {
            if (target.shape[d] > t.shape[d]) throw new
                InvalidDataException($"{name}: target {string.Join("x", target.shape)} is wider than the pretrained {string.Join("x", source.Dims)}");
            if (target.shape[d] < t.shape[d]) t = t.narrow(d, 0, target.shape[d]);
        }
        target.copy_(t.contiguous());
    }
}
