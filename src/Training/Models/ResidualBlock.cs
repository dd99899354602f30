using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// torchvision's BasicBlock (two 3x3 convs) or Bottleneck (1x1, 3x3, 1x1 with expansion 4), with torchvision's
/// parameter names (conv1, bn1, conv2, bn2, conv3, bn3, downsample.0, downsample.1), plus dilation for output
/// stride 8/16. An optional squeeze-and-excitation gate (field se) makes it an SE-ResNet block.
/// </summary>
public sealed class ResidualBlock : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Conv2d? conv3;
    private readonly BatchNorm2d? bn3;
    private readonly Module<Tensor, Tensor>? downsample;
    private readonly SqueezeExcitation? se;
    private readonly long _stride, _dilation;
    private readonly bool _bottleneck;

    public ResidualBlock(long inplanes, long planes, bool bottleneck, long stride = 1, long dilation = 1, long firstDilation = -1,
        long seReduction = 0, long width = -1)
        : base(bottleneck ? "Bottleneck" : "BasicBlock")
    {
        _bottleneck = bottleneck;
        _stride = stride;
        _dilation = firstDilation > 0 ? firstDilation : dilation;
        var expansion = bottleneck ? 4 : 1;
        var outC = planes * expansion;
        if (bottleneck)
        {
            var mid = width > 0 ? width : planes;
            conv1 = Conv2d(inplanes, mid, 1, bias: false);
            bn1 = BatchNorm2d(mid);
            conv2 = Conv2d(mid, mid, 3, stride: stride, padding: _dilation, dilation: _dilation, bias: false);
            bn2 = BatchNorm2d(mid);
            conv3 = Conv2d(mid, outC, 1, bias: false);
            bn3 = BatchNorm2d(outC);
        }
        else
        {
            conv1 = Conv2d(inplanes, planes, 3, stride: stride, padding: _dilation, dilation: _dilation, bias: false);
            bn1 = BatchNorm2d(planes);
            conv2 = Conv2d(planes, planes, 3, padding: dilation, dilation: dilation, bias: false);
            bn2 = BatchNorm2d(planes);
        }
        _secondDilation = bottleneck ? _dilation : dilation;
        if (stride != 1 || inplanes != outC)
            downsample = Sequential(("0", Conv2d(inplanes, outC, 1, stride: stride, bias: false)), ("1", BatchNorm2d(outC)));
        if (seReduction > 0) se = new SqueezeExcitation(outC, Math.Max(1, outC / seReduction));
        OutChannels = outC;
        RegisterComponents();
    }

    private readonly long _secondDilation;
    public long OutChannels { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.forward(conv1.forward(x)));
        y = bn2.forward(conv2.forward(y));
        if (_bottleneck) y = bn3!.forward(conv3!.forward(functional.relu(y)));
        if (se is not null) y = se.forward(y);
        var identity = downsample is null ? x : downsample.forward(x);
        return functional.relu(y + identity).MoveToOuterDisposeScope();
    }

    public (string Value, long H, long W) Export(OnnxGraph g, string input, long h, long w)
    {
        long oh = (h - 1) / _stride + 1, ow = (w - 1) / _stride + 1;
        string y;
        if (_bottleneck)
        {
            y = OnnxOps.Relu(g, OnnxOps.ConvBn(g, input, conv1, bn1, "conv1", 1, 0, 1));
            y = OnnxOps.Relu(g, OnnxOps.ConvBn(g, y, conv2, bn2, "conv2", _stride, _dilation, _dilation));
            y = OnnxOps.ConvBn(g, y, conv3!, bn3, "conv3", 1, 0, 1);
        }
        else
        {
            y = OnnxOps.Relu(g, OnnxOps.ConvBn(g, input, conv1, bn1, "conv1", _stride, _dilation, _dilation));
            y = OnnxOps.ConvBn(g, y, conv2, bn2, "conv2", 1, _secondDilation, _secondDilation);
        }
        if (se is not null) y = se.Export(g, y, oh, ow).Value;
        var identity = input;
        if (downsample is not null)
        {
            var children = downsample.children().ToArray();
            identity = OnnxOps.ConvBn(g, input, (Conv2d)children[0], (BatchNorm2d)children[1], "downsample", _stride, 0, 1);
        }
        return (OnnxOps.Relu(g, g.Node("Add", [y, identity])), oh, ow);
    }
}
