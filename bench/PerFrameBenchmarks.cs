using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Inference;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Imaging;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Render;
using RealtimeMtl.Render.Drawing;

namespace RealtimeMtl.Bench;

/// <summary>Every per-frame step of the engine at 320x240 (model input 256x192), one at a time.</summary>
[MemoryDiagnoser]
public class PerFrameBenchmarks
{
    private Frame _frame = null!;
    private readonly Mat _input = new(192, 256, MatType.CV_8UC3);
    private readonly Mat _modelLabels = new(192, 256, MatType.CV_8UC1, Scalar.All(3));
    private readonly Mat _modelDepth = new(192, 256, MatType.CV_32FC1, Scalar.All(2.5f));
    private readonly Mat _labels = new(), _depth = new(), _colour = new(), _overlay = new(), _scratch = new();
    private readonly Mat _sceneLabels = new(), _confidence = new(192, 256, MatType.CV_32FC1), _hd = new();
    private ClassColorizer _colorizer = null!;
    private readonly DepthColormap _colormap = new();
    private FrameRenderer _side = null!, _overlayOnly = null!;
    private FramePacket _packet = null!;
    private readonly PipelineStats _stats = new();
    private readonly ImageEncodingParam[] _jpeg = [new(ImwriteFlags.JpegQuality, 80)];

    [GlobalSetup]
    public void Setup()
    {
        var source = new SyntheticSource(new SyntheticOptions { Frames = 1 });
        _frame = source.RenderFrame(0);
        _frame.Labels!.CopyTo(_labels);
        _frame.Depth!.CopyTo(_depth);
        // A real scene's labels at the model's size, with confidence: what the upsampler meets.
        Cv2.Resize(_frame.Labels!, _sceneLabels, new Size(256, 192), 0, 0, InterpolationFlags.Nearest);
        Cv2.Randu(_confidence, new Scalar(0.5), new Scalar(1.0));
        _colorizer = new ClassColorizer(LabelSet.Nyu13);
        var info = new ModelInfo
        {
            Path = "bench.onnx", Architecture = "MTL_SSW", Backbone = "bench", Labels = LabelSet.Nyu13, InputWidth = 256,
            InputHeight = 192, DepthMin = 0, DepthMax = 10, HasConfidence = true
        };
        _side = new FrameRenderer(info, new RenderOptions { Layout = Layout.Side });
        _overlayOnly = new FrameRenderer(info, new RenderOptions { Layout = Layout.Overlay, Hud = false, Legend = false });
        _packet = new FramePacket(new Frame(0, 0, _frame.Image.Clone()));
        _labels.CopyTo(_packet.Labels);
        _depth.CopyTo(_packet.Depth);
        _frame.Image.CopyTo(_overlay);
    }

    [Benchmark] public void ResizeIntoInputBuffer() => Cv2.Resize(_frame.Image, _input, new Size(256, 192), 0, 0, InterpolationFlags.Area);
    /// <summary>The same resize without OpenCvSharp's managed InputArray/OutputArray wrappers (what the engine does).</summary>
    [Benchmark] public void ResizeIntoInputBufferCvNative() => CvNative.Resize(_frame.Image, _input, new Size(256, 192), InterpolationFlags.Area);
    [Benchmark]
    public void PutTextCv2() => Cv2.PutText(_overlay, "12.5 FPS", new Point(4, 20), HersheyFonts.HersheySimplex, 0.4, Scalar.White, 1,
        LineTypes.AntiAlias);
    /// <summary>The HUD's way: the text as a span, encoded on the stack, outlined (two putText calls).</summary>
    [Benchmark] public void PutTextFromSpan() => RealtimeMtl.Render.Drawing.Text.Draw(_overlay, "12.5 FPS".AsSpan(), new Point(4, 20), 0.4);
    [Benchmark] public void UpsampleLabelsNearest() => Cv2.Resize(_modelLabels, _labels, new Size(320, 240), 0, 0, InterpolationFlags.Nearest);
    [Benchmark] public void UpsampleSceneLabelsNearest720p() => Cv2.Resize(_sceneLabels, _hd, new Size(1280, 720), 0, 0, InterpolationFlags.Nearest);
    [Benchmark] public void UpsampleSceneLabelsByConfidence720p() => LabelUpsampler.Upsample(_sceneLabels, _confidence, new Size(1280, 720), _hd);
    [Benchmark] public void UpsampleSceneLabelsByConfidence() => LabelUpsampler.Upsample(_sceneLabels, _confidence, new Size(320, 240), _labels);
    [Benchmark] public void UpsampleDepthBilinear() => Cv2.Resize(_modelDepth, _depth, new Size(320, 240), 0, 0, InterpolationFlags.Linear);
    [Benchmark] public void ClassOverlay() => _colorizer.Overlay(_frame.Image, _packet.Labels, 0.5, _colour, _overlay);
    [Benchmark] public void DepthColormapTurbo() => _colormap.Draw(_packet.Depth, _scratch, DepthColormapKind.Turbo, 0, 10, false);
    /// <summary>With the automatic range: the 2nd/98th percentiles of the valid depth, selected, then smoothed.</summary>
    [Benchmark] public void DepthColormapTurboAutoRange() => _colormap.Draw(_packet.Depth, _scratch, DepthColormapKind.Turbo, 0, 10, true);
    /// <summary>Into the packet's reused target, as the render stage draws.</summary>
    [Benchmark] public void RenderSideLayoutWithHud() => _side.Render(_packet, _packet.RenderTarget, _stats);
    [Benchmark] public void RenderOverlayOnly() => _overlayOnly.Render(_packet, _packet.RenderTarget, _stats);
    [Benchmark] public void JpegEncodeForWebView() { Cv2.ImEncode(".jpg", _frame.Image, out var bytes, _jpeg); }
}
