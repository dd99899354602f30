using CsCheck;
using OpenCvSharp;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Render.Drawing;
using Size = OpenCvSharp.Size;

namespace RealtimeMtl.Render.Tests;

/// <summary>Property-based: any in-range label map and any depth map (NaN, Inf, negative included) renders in every layout.</summary>
public class RenderPropertyTests
{
    private static readonly ModelInfo Info = new()
    {
        Path = "p.onnx", Architecture = "p", Backbone = "p", Labels = LabelSet.Nyu13, InputWidth = 32, InputHeight = 32, DepthMin = 0, DepthMax = 10,
        HasConfidence = false,
    };

    private static readonly Gen<float> AnyDepth = Gen.OneOf(Gen.Float[-5f, 50f], Gen.Const(float.NaN), Gen.Const(float.PositiveInfinity),
        Gen.Const(float.NegativeInfinity), Gen.Const(0f));

    [Fact]
    public void Any_label_map_and_depth_map_renders_without_throwing_in_every_layout()
    {
        var gen = from w in Gen.Int[16, 64]
                  from h in Gen.Int[16, 48]
                  from labels in Gen.Byte[0, 12].Array[w * h]
                  from depth in AnyDepth.Array[w * h]
                  from layout in Gen.Enum<Layout>()
                  from colormap in Gen.Enum<DepthColormapKind>()
                  from alpha in Gen.Double[0, 1]
                  from boundaries in Gen.Bool
                  select (w, h, labels, depth, layout, colormap, alpha, boundaries);
        gen.Sample(t =>
        {
            var (w, h, labels, depth, layout, colormap, alpha, boundaries) = t;
            using var renderer = new FrameRenderer(Info, new RenderOptions
            {
                Layout = layout, Colormap = colormap, Alpha = alpha,
                Boundaries = boundaries, AutoDepthRange = alpha > 0.5
            });
            var p = new FramePacket(new Frame(0, 0, new Mat(h, w, MatType.CV_8UC3, Scalar.All(100))));
            Mat.FromPixelData(h, w, MatType.CV_8UC1, labels).CopyTo(p.Labels);
            Mat.FromPixelData(h, w, MatType.CV_32FC1, depth).CopyTo(p.Depth);
            using var output = renderer.Render(p, new PipelineStats());
            p.Release();
            var expected = layout switch { Layout.Overlay => new Size(w, h), Layout.Side => new Size(3 * w, h), _ => new Size(2 * w, 2 * h) };
            return output.Size() == expected && output.Type() == MatType.CV_8UC3;
        }, iter: 150);
    }

    [Fact]
    public void Invalid_depth_is_always_black_whatever_the_range()
    {
        Gen.Select(AnyDepth.Array[64], Gen.Float[0f, 5f], Gen.Float[0.5f, 20f]).Sample((depth, lo, span) =>
        {
            using var map = new DepthColormap();
            using var m = Mat.FromPixelData(1, 64, MatType.CV_32FC1, depth);
            using var bgr = new Mat();
            map.Draw(m, bgr, DepthColormapKind.Turbo, lo, lo + span, false);
            for (var i = 0; i < 64; i++)
                if (!(depth[i] > 0) || !float.IsFinite(depth[i]))
                    if (bgr.At<Vec3b>(0, i) != new Vec3b(0, 0, 0)) return false;
            return true;
        }, iter: 300);
    }

    [Fact]
    public void Selection_finds_the_same_order_statistic_as_a_sort()
    {
        Gen.Float[-5, 50].Array[1, 400].SelectMany(a => Gen.Int[0, a.Length - 1].Select(k => (a, k))).Sample(t =>
        {
            var (values, k) = t;
            var sorted = values.Order().ToArray();
            var work = (float[])values.Clone();
            Assert.Equal(sorted[k], RealtimeMtl.Common.Measuring.Percentile.SelectKth(work, k));
            // And the span is partitioned around k.
            Assert.All(work[..k], v => Assert.True(v <= sorted[k]));
            Assert.All(work[(k + 1)..], v => Assert.True(v >= sorted[k]));
        }, iter: 300);
    }
}
