using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Models;

/// <summary>Conv, BatchNorm, optional ReLU; keys "0" (conv) and "1" (bn) as in torchvision's Sequential blocks.</summary>
public sealed class ConvBnRelu : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d _conv;
    private readonly BatchNorm2d _bn;
    private readonly bool _relu;
    private readonly long _stride, _padding, _dilation;

    public ConvBnRelu(long inChannels, long outChannels, long kernel, long stride = 1, long dilation = 1, bool relu = true) : base("ConvBnRelu")
    {
        _stride = stride;
        _dilation = dilation;
        _padding = (kernel / 2) * dilation;
        _relu = relu;
        _conv = Conv2d(inChannels, outChannels, kernel, stride: stride, padding: _padding, dilation: dilation, bias: false);
        _bn = BatchNorm2d(outChannels);
        register_module("0", _conv);
        register_module("1", _bn);
    }

    public override Tensor forward(Tensor x)
    {
        var y = _bn.forward(_conv.forward(x));
        return _relu ? functional.relu(y) : y;
    }

    public (string Value, long H, long W) Export(OnnxGraph g, string input, long h, long w)
    {
        var y = OnnxOps.ConvBn(g, input, _conv, _bn, "conv", _stride, _padding, _dilation);
        if (_relu) y = OnnxOps.Relu(g, y);
        var k = _conv.weight!.shape[2];
        return (y, OutSize(h, k), OutSize(w, k));
    }

    private long OutSize(long n, long k) => (n + 2 * _padding - _dilation * (k - 1) - 1) / _stride + 1;
}
