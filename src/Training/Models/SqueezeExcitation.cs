using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// Squeeze-and-excitation (Hu et al. 2018): global average pool, 1x1 conv down (fc1), ReLU, 1x1 conv up (fc2),
/// sigmoid, channel-wise rescale. Names follow torchvision.ops.SqueezeExcitation (fc1, fc2).
/// </summary>
public sealed class SqueezeExcitation : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d fc1, fc2;

    public SqueezeExcitation(long channels, long squeezeChannels) : base("SqueezeExcitation")
    {
        fc1 = Conv2d(channels, squeezeChannels, 1);
        fc2 = Conv2d(squeezeChannels, channels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var s = functional.adaptive_avg_pool2d(x, [1, 1]);
        s = functional.sigmoid(fc2.forward(functional.relu(fc1.forward(s))));
        return (x * s).MoveToOuterDisposeScope();
    }

    public (string Value, long H, long W) Export(OnnxGraph g, string input, long h, long w)
    {
        var s = g.Node("GlobalAveragePool", [input]);
        s = OnnxOps.Relu(g, OnnxOps.ConvBn(g, s, fc1, null, "se_fc1", 1, 0, 1));
        s = g.Node("Sigmoid", [OnnxOps.ConvBn(g, s, fc2, null, "se_fc2", 1, 0, 1)]);
        return (g.Node("Mul", [input, s]), h, w);
    }
}
