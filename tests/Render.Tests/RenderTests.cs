using OpenCvSharp;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Render;
using RealtimeMtl.Render.Drawing;

namespace RealtimeMtl.Render.Tests;

public class RenderTests
{
    private static ModelInfo Info() => new()
    {
        Path = "test.onnx", Architecture = "test", Backbone = "none", Labels = LabelSet.Nyu13, InputWidth = 64, InputHeight = 48,
        DepthMin = 0, DepthMax = 10, HasConfidence = false,
    };

    private static FramePacket Packet(int w = 64, int h = 48)
    {
        var image = new Mat(h, w, MatType.CV_8UC3, new Scalar(40, 80, 120));
        var p = new FramePacket(new Frame(0, 0, image));
        new Mat(h, w, MatType.CV_8UC1, Scalar.All(SyntheticWall)).CopyTo(p.Labels);
        using (var roi = new Mat(p.Labels, new Rect(0, 0, w / 2, h))) roi.SetTo(Scalar.All(4)); // floor on the left half
        new Mat(h, w, MatType.CV_32FC1, Scalar.All(5f)).CopyTo(p.Depth);
        return p;
    }

    private const int SyntheticWall = 11;

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void Overlay_pixels_are_the_palette_colour_blended_at_alpha(double alpha)
    {
        using var r = new FrameRenderer(Info(), new RenderOptions { Layout = Layout.Overlay, Alpha = alpha, Hud = false, Legend = false });
        var p = Packet();
        using var output = r.Render(p, new PipelineStats());
        foreach (var (x, cls) in new[] { (5, 4), (50, SyntheticWall) })
        {
            var (b, g, rr) = LabelSet.Nyu13.Palette[cls];
            var px = output.At<Vec3b>(20, x);
            Assert.Equal(40 * (1 - alpha) + b * alpha, px.Item0, 1.0);
            Assert.Equal(80 * (1 - alpha) + g * alpha, px.Item1, 1.0);
            Assert.Equal(120 * (1 - alpha) + rr * alpha, px.Item2, 1.0);
        }
        p.Release();
    }

    [Fact]
    public void Legend_lists_the_classes_present_largest_first_and_at_most_eight()
    {
        using var r = new FrameRenderer(Info(), new RenderOptions { Layout = Layout.Overlay, Hud = false, Legend = true });
        var p = Packet(200, 200);
        // Shares: table 40 %, bed 25 %, chair 20 %, then ten classes of 1.5 % each (only five of them fit in the legend).
        var classes = new[] { 9, 0, 3, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12 };
        var rows = new[] { 80, 50, 40, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3 };
        var y0 = 0;
        for (var i = 0; i < classes.Length; i++)
        {
            using var band = new Mat(p.Labels, new Rect(0, y0, 200, rows[i]));
            band.SetTo(Scalar.All(classes[i]));
            y0 += rows[i];
        }
        using var output = r.Render(p, new PipelineStats());
        // Eight swatches, 13 px apart, the last ending 8 px above the bottom; each filled with its class colour.
        var top = 200 - 8 - 8 * 13;
        var expected = new[] { 9, 0, 3, 1, 2, 4, 5, 6 };
        for (var k = 0; k < 8; k++)
        {
            var (b, g, rr) = LabelSet.Nyu13.Palette[expected[k]];
            Assert.Equal(new Vec3b(b, g, rr), output.At<Vec3b>(top + 13 * k + 5, 11));
        }
        p.Release();
    }

    [Fact]
    public void Side_layout_is_three_panels_and_quad_is_two_by_two()
    {
        using var side = new FrameRenderer(Info(), new RenderOptions { Layout = Layout.Side });
        using var quad = new FrameRenderer(Info(), new RenderOptions { Layout = Layout.Quad });
        var p = Packet();
        using var a = side.Render(p, new PipelineStats());
        using var b = quad.Render(p, new PipelineStats());
        Assert.Equal(new Size(192, 48), a.Size());
        Assert.Equal(new Size(128, 96), b.Size());
        p.Release();
    }

    [Fact]
    public void Invalid_depth_is_drawn_black_and_valid_depth_is_not()
    {
        using var map = new DepthColormap();
        using var depth = new Mat(1, 5, MatType.CV_32FC1);
        depth.Set(0, 0, 0f); depth.Set(0, 1, float.NaN); depth.Set(0, 2, float.PositiveInfinity); depth.Set(0, 3, -2f); depth.Set(0, 4, 3f);
        using var bgr = new Mat();
        map.Draw(depth, bgr, DepthColormapKind.Turbo, 0, 10, false);
        for (var i = 0; i < 4; i++) Assert.Equal(new Vec3b(0, 0, 0), bgr.At<Vec3b>(0, i));
        Assert.NotEqual(new Vec3b(0, 0, 0), bgr.At<Vec3b>(0, 4));
    }

    [Fact]
    public void Colormap_maps_near_and_far_to_the_two_ends_of_the_gray_ramp()
    {
        using var map = new DepthColormap();
        using var depth = new Mat(1, 3, MatType.CV_32FC1);
        depth.Set(0, 0, 1f); depth.Set(0, 1, 5.5f); depth.Set(0, 2, 10f);
        using var bgr = new Mat();
        map.Draw(depth, bgr, DepthColormapKind.Gray, 1, 10, false);
        Assert.Equal(0, bgr.At<Vec3b>(0, 0).Item0);
        Assert.InRange(bgr.At<Vec3b>(0, 1).Item0, 126, 129);
        Assert.Equal(255, bgr.At<Vec3b>(0, 2).Item0);
    }

    [Fact]
    public void The_automatic_depth_range_is_the_2nd_to_98th_percentile_so_outliers_do_not_wash_out_the_scene()
    {
        // 98 % of the pixels spread evenly over 1-3 m, 1 % at 0.2 m and 1 % at 9.5 m (a glint, a window).
        using var depth = new Mat(100, 100, MatType.CV_32FC1);
        var rng = new Random(3);
        for (var i = 0; i < 10_000; i++)
            depth.Set(i / 100, i % 100, i < 100 ? 0.2f : i < 200 ? 9.5f : 1f + 2f * (float)rng.NextDouble());
        using var map = new DepthColormap();
        using var bgr = new Mat();
        var (lo, hi) = map.Draw(depth, bgr, DepthColormapKind.Turbo, 0, 10, auto: true);
        Assert.InRange(lo, 1.0f, 1.1f);
        Assert.InRange(hi, 2.9f, 3.0f);
        // A fixed range is used as given.
        Assert.Equal((0.5f, 4f), new DepthColormap().Draw(depth, bgr, DepthColormapKind.Turbo, 0.5f, 4f, auto: false));
    }

    [Fact]
    public void The_automatic_range_follows_a_new_scene_smoothly_instead_of_jumping()
    {
        using var map = new DepthColormap();
        using var bgr = new Mat();
        using var near = new Mat(40, 40, MatType.CV_32FC1);
        using var far = new Mat(40, 40, MatType.CV_32FC1);
        for (var i = 0; i < 1600; i++) { near.Set(i / 40, i % 40, 1f + i / 1600f); far.Set(i / 40, i % 40, 5f + 3f * i / 1600f); }
        var first = map.Draw(near, bgr, DepthColormapKind.Turbo, 0, 10, true);
        var next = map.Draw(far, bgr, DepthColormapKind.Turbo, 0, 10, true);
        // One frame later the range has moved toward the new scene, but only by the smoothing step.
        var target = map.RobustRange(far)!.Value;
        Assert.Equal(first.Min + DepthColormap.Smoothing * (target.Min - first.Min), next.Min, 4);
        Assert.True(next.Max < target.Max - 1, $"max jumped to {next.Max}");
        (float Min, float Max) settled = next;
        for (var f = 0; f < 40; f++) settled = map.Draw(far, bgr, DepthColormapKind.Turbo, 0, 10, true);
        Assert.Equal(target.Min, settled.Min, 1);
        Assert.Equal(target.Max, settled.Max, 1);
    }

    [Fact]
    public void Text_and_legend_grow_with_the_frame_so_720p_stays_readable()
    {
        Assert.Equal(1.0, Text.UiScale(240));
        Assert.Equal(3.0, Text.UiScale(720));
        Assert.Equal(1.0, Text.UiScale(120)); // never smaller than at 240 lines
        static int HudHeight(int w, int h)
        {
            var p = Packet(w, h);
            using var renderer = new FrameRenderer(Info(), new RenderOptions { Layout = Layout.Overlay });
            using var output = renderer.Render(p, new PipelineStats());
            // The HUD panel darkens the frame from the top: count rows at x = 6 that differ from the plain overlay below it.
            var reference = output.At<Vec3b>(h / 2 + 10, 6);
            var rows = 0;
            while (rows < h && output.At<Vec3b>(rows + 4, 6) != reference) rows++;
            p.Release();
            return rows;
        }
        var small = HudHeight(320, 240);
        var large = HudHeight(1280, 720);
        Assert.True(small > 20, $"HUD {small} rows at 240");
        Assert.InRange(large, 2.5 * small, 3.5 * small);
    }

    [Fact]
    public void Boundaries_are_drawn_only_where_classes_meet()
    {
        using var r = new FrameRenderer(Info(), new RenderOptions { Layout = Layout.Overlay, Boundaries = true, Hud = false, Legend = false });
        var p = Packet();
        using var output = r.Render(p, new PipelineStats());
        Assert.Equal(new Vec3b(255, 255, 255), output.At<Vec3b>(20, 32));
        Assert.NotEqual(new Vec3b(255, 255, 255), output.At<Vec3b>(20, 5));
        p.Release();
    }

    [Fact]
    public void Class_shares_ignore_the_ignore_label()
    {
        using var c = new ClassColorizer(LabelSet.Nyu13);
        using var labels = new Mat(1, 4, MatType.CV_8UC1);
        labels.Set(0, 0, (byte)1); labels.Set(0, 1, (byte)1); labels.Set(0, 2, (byte)2); labels.Set(0, 3, LabelSet.Ignore);
        var shares = c.ClassShares(labels);
        Assert.Equal(2 / 3.0, shares[1], 10);
        Assert.Equal(1 / 3.0, shares[2], 10);
    }

    [Fact]
    public void Invalid_render_options_are_rejected_at_the_edge()
    {
        Assert.Throws<ArgumentException>(() => new RenderOptions { Alpha = 1.5 }.Validate());
        Assert.Throws<ArgumentException>(() => new RenderOptions { DepthRange = (5f, 1f) }.Validate());
        Assert.Throws<ArgumentException>(() => RenderOptions.ParseLayout("grid"));
        Assert.Throws<ArgumentException>(() => RenderOptions.ParseColormap("rainbow"));
    }
}

public class RenderAllocationTests
{
    [Theory]
    [InlineData(Layout.Side)]
    [InlineData(Layout.Quad)]
    [InlineData(Layout.Overlay)]
    public void Drawing_a_frame_into_its_reused_target_allocates_almost_nothing_managed(Layout layout)
    {
        var info = new ModelInfo
        {
            Path = "test.onnx", Architecture = "test", Backbone = "none", Labels = LabelSet.Nyu13, InputWidth = 64, InputHeight = 48,
            DepthMin = 0, DepthMax = 10, HasConfidence = false,
        };
        // The HUD rebuilt on every frame (it is five times a second in a run), so its text is counted in full.
        using var r = new FrameRenderer(info, new RenderOptions { Layout = layout, Boundaries = true }) { HudRefresh = TimeSpan.Zero };
        var p = new FramePacket(new Frame(0, 0, new Mat(240, 320, MatType.CV_8UC3, new Scalar(40, 80, 120)))
        {
            Depth = new Mat(240, 320,
            MatType.CV_32FC1, Scalar.All(3f))
        });
        p.Labels.Create(240, 320, MatType.CV_8UC1);
        p.Labels.SetTo(Scalar.All(4));
        using (var half = p.Labels.RowRange(0, 120)) half.SetTo(Scalar.All(11));
        p.Depth.Create(240, 320, MatType.CV_32FC1);
        p.Depth.SetTo(Scalar.All(2.5f));
        var stats = new PipelineStats();
        for (var i = 0; i < 20; i++) r.Render(p, p.RenderTarget, stats);
        // The least of five windows: what every frame allocates shows in each, while the runtime's one-off work (a method
        // compiled again at a higher tier) lands in one.
        var perFrame = double.MaxValue;
        for (var window = 0; window < 5; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 40; i++) r.Render(p, p.RenderTarget, stats);
            perFrame = Math.Min(perFrame, (GC.GetAllocatedBytesForCurrentThread() - before) / 40.0);
        }
        // HUD, legend, colour bar and panels included. OpenCvSharp's Cv2 calls would cost about 100-200 bytes each
        // (dozens per frame), and the HUD's four lines as strings about 400.
        Assert.True(perFrame < 32, $"{perFrame:0.0} bytes per frame");
        p.Release();
    }
}
