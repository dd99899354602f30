using OpenCvSharp;
using RealtimeMtl.Common.Motion;
using RealtimeMtl.Inference.PostProcessing;
using Xunit;

namespace RealtimeMtl.Inference.Tests;

/// <summary>
/// --smooth flow (<see cref="FlowFusion"/>) and its flow (<see cref="DisFlow"/>, <see cref="MotionField"/>) on
/// textures moved by known amounts: each test fails if the fusion is removed or carries its state wrongly.
/// </summary>
public class FlowFusionTests
{
    private const int W = 256, H = 192;

    /// <summary>A smooth random texture (blurred noise), larger than the frame so it can be moved under it.</summary>
    private static Mat Texture(int seed, int w = W + 64, int h = H + 64)
    {
        var bytes = new byte[w * h * 3];
        new Random(seed).NextBytes(bytes);
        var m = Mat.FromPixelData(h, w, MatType.CV_8UC3, bytes).Clone();
        Cv2.GaussianBlur(m, m, new Size(0, 0), 2.5);
        Cv2.Normalize(m, m, 0, 255, NormTypes.MinMax);
        return m;
    }

    private static Mat View(Mat texture, int dx, int dy = 0) => texture[new Rect(32 + dx, 32 + dy, W, H)].Clone();

    private static (Mat Labels, Mat Depth, Mat Conf) Outputs(byte label, float conf, float depth = 2f)
        => (new Mat(H, W, MatType.CV_8UC1, Scalar.All(label)), new Mat(H, W, MatType.CV_32FC1, Scalar.All(depth)),
            new Mat(H, W, MatType.CV_32FC1, Scalar.All(conf)));

    private static double Share(Mat labels, byte label, Rect? area = null)
    {
        using var roi = area is { } a ? labels[a] : labels;
        using var eq = new Mat();
        Cv2.Compare(roi, Scalar.All(label), eq, CmpTypes.EQ);
        return Cv2.CountNonZero(eq) / (double)(roi.Rows * roi.Cols);
    }

    [Fact]
    public void Dis_flow_recovers_a_known_translation_of_a_texture()
    {
        using var tex = Texture(1);
        using var a = View(tex, 0);
        using var b = View(tex, 5, -3);
        GrayPyramid pa = Pyramid(a, 0), pb = Pyramid(b, 0);
        var motion = new MotionField();
        motion.Estimate(pb, pa);
        // b(x) = a(x + (5, -3)): the backward flow of b into a is (5, -3) inside the frame.
        var inner = Enumerable.Range(20, H - 40).SelectMany(y => Enumerable.Range(20, W - 40).Select(x => y * W + x)).ToArray();
        Assert.InRange(inner.Average(i => motion.FlowX[i]), 4.7, 5.3);
        Assert.InRange(inner.Average(i => motion.FlowY[i]), -3.3, -2.7);
        Assert.True(inner.Count(i => motion.Trusted[i] != 0) > 0.9 * inner.Length, $"trusted {motion.TrustedShare:P1}");
    }

    [Fact]
    public void Where_dis_left_pixels_untrusted_the_cameras_motion_carries_them_unless_the_scene_changed_there()
    {
        // A zoom and a pan at once (a camera's motion, not one translation); DIS's matches are then knocked out over two
        // blocks, as where it fails on what it cannot lock onto. The camera's motion fitted to the rest must carry the
        // first block (its content moved with the camera) and not the second (a new object covers it in the new frame).
        using var tex = Texture(4);
        using var a = View(tex, 0);
        using var zoom = new Mat();
        Cv2.WarpAffine(a, zoom, Cv2.GetRotationMatrix2D(new Point2f(W / 2f, H / 2f), 0, 1.04), new Size(W, H), InterpolationFlags.Linear,
            BorderTypes.Reflect101);
        using var b = new Mat();
        Cv2.WarpAffine(zoom, b, Mat.FromArray(new double[,] { { 1, 0, -4 }, { 0, 1, 2 } }), new Size(W, H), InterpolationFlags.Linear,
            BorderTypes.Reflect101);
        using var newObject = Texture(5, 48, 48);
        newObject.CopyTo(b[new Rect(150, 100, 48, 48)]);
        var motion = new MotionField(new DisFlow(iterations: 4, finestLevel: 2), level: 2, slack: 2f);
        GrayPyramid pa = Pyramid(a, 2), pb = Pyramid(b, 2);
        motion.Estimate(pb, pa);
        int w = motion.Width, s = 4;
        var moved = Cells(new Rect(60 / s, 80 / s, 40 / s, 40 / s));
        var covered = Cells(new Rect(156 / s, 106 / s, 36 / s, 36 / s));
        var expected = moved.Select(i => motion.FlowX[i]).Average();
        foreach (var i in moved.Concat(covered)) motion.Trusted[i] = 0;

        motion.ExtendWithCameraMotion(pb, pa, minInlierShare: 0.6f, inlierPixels: 0.3f, tolerance: 8f);
        Assert.True(moved.Count(i => motion.Trusted[i] != 0) > 0.9 * moved.Length, "the block that moved with the camera is carried");
        Assert.InRange(moved.Average(i => motion.FlowX[i]), expected - 0.2, expected + 0.2);
        Assert.True(covered.Count(i => motion.Trusted[i] != 0) < 0.2 * covered.Length, "the new object is not carried");
        Assert.True(motion.ExtendedShare > 0);

        // Where the matches follow no single motion (half the frame moved one way, half another), nothing is carried.
        var scattered = new MotionField(new DisFlow(iterations: 4, finestLevel: 2), level: 2, slack: 2f);
        scattered.Estimate(pb, pa);
        for (var i = 0; i < scattered.FlowX.Length; i++) if (i % w < w / 2) scattered.FlowX[i] += 3;
        foreach (var i in moved) scattered.Trusted[i] = 0;
        scattered.ExtendWithCameraMotion(pb, pa, minInlierShare: 0.6f, inlierPixels: 0.3f, tolerance: 8f);
        Assert.Equal(0, scattered.ExtendedShare);
        Assert.All(moved, i => Assert.Equal(0, scattered.Trusted[i]));

        int[] Cells(Rect r) => Enumerable.Range(r.Y, r.Height).SelectMany(y => Enumerable.Range(r.X, r.Width).Select(x => y * w + x)).ToArray();
    }

    [Fact]
    public void At_half_size_the_field_gives_the_translation_in_half_size_pixels_and_the_fusion_runs_on_tiny_models()
    {
        using var tex = Texture(1);
        using var a = View(tex, 0);
        using var b = View(tex, 6, -4);
        GrayPyramid pa = Pyramid(a, 1), pb = Pyramid(b, 1);
        var motion = new MotionField(new DisFlow(iterations: 4), level: 1);
        motion.Estimate(pb, pa);
        Assert.Equal((W / 2, H / 2), (motion.Width, motion.Height));
        int w = W / 2, h = H / 2;
        var inner = Enumerable.Range(10, h - 20).SelectMany(y => Enumerable.Range(10, w - 20).Select(x => y * w + x)).ToArray();
        Assert.InRange(inner.Average(i => motion.FlowX[i]), 2.8, 3.2);
        Assert.InRange(inner.Average(i => motion.FlowY[i]), -2.2, -1.8);
        Assert.True(inner.Count(i => motion.Trusted[i] != 0) > 0.9 * inner.Length, $"trusted {motion.TrustedShare:P1}");

        // A model smaller than two patches has no half-size level: the fusion works at its own size.
        var fusion = new FlowFusion();
        for (var f = 0; f < 3; f++)
        {
            using var image = tex[new Rect(32 + f, 32, 24, 16)].Clone();
            using var labels = new Mat(16, 24, MatType.CV_8UC1, Scalar.All(2));
            using var depth = new Mat(16, 24, MatType.CV_32FC1, Scalar.All(1.5f));
            fusion.Apply(image, labels, depth, null);
            Assert.Equal(1.0, Share(labels, 2));
            Assert.Equal(1.5f, depth.At<float>(8, 12), 3);
        }
    }

    /// <summary>The frame's grey pyramid, filled from level <paramref name="from"/> (an area resize to that level's size)
    /// as the fusion fills it.</summary>
    private static GrayPyramid Pyramid(Mat bgr, int from)
    {
        using var g = new Mat();
        using var level = new Mat();
        Cv2.CvtColor(bgr, g, ColorConversionCodes.BGR2GRAY);
        Cv2.Resize(g, level, new Size(bgr.Width >> from, bgr.Height >> from), 0, 0, InterpolationFlags.Area);
        level.GetArray(out byte[] data);
        var pyramid = new GrayPyramid();
        pyramid.Fill(data, bgr.Width, bgr.Height, GrayPyramid.LevelsFor(bgr.Width, bgr.Height, 8), from);
        return pyramid;
    }

    [Theory]
    [InlineData(320, 240)]
    [InlineData(512, 384)]
    [InlineData(640, 480)]
    [InlineData(1280, 720)]
    [InlineData(1920, 1080)]
    public void The_grey_each_pixel_is_checked_on_follows_the_area_filter_for_any_frame_size(int width, int height)
    {
        // Fine texture (noise blurred by one pixel): the grey at model size must average it as OpenCV's area filter
        // does, not sample it (bilinear over more than a factor 2 would alias it into the check's 25-level tolerance).
        var bytes = new byte[width * height * 3];
        new Random(width).NextBytes(bytes);
        using var frame = Mat.FromPixelData(height, width, MatType.CV_8UC3, bytes).Clone();
        Cv2.GaussianBlur(frame, frame, new Size(0, 0), 1.0);
        var fusion = new FlowFusion();
        var (labels, depth, conf) = Outputs(0, 0.8f);
        fusion.Apply(frame, labels, depth, conf);
        using var gray = new Mat();
        using var area = new Mat();
        Cv2.CvtColor(frame, gray, ColorConversionCodes.BGR2GRAY);
        Cv2.Resize(gray, area, new Size(W, H), 0, 0, InterpolationFlags.Area);
        area.GetArray(out byte[] reference);
        var ours = fusion.ModelGray.ToArray();
        double sum = 0, worst = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            var d = Math.Abs(ours[i] - reference[i]);
            sum += d * d; worst = Math.Max(worst, d);
        }
        var rms = Math.Sqrt(sum / reference.Length);
        Assert.True(rms < 4, $"{width}x{height}: grey at model size differs from the area filter by {rms:F2} levels rms (worst {worst})");
        labels.Dispose(); depth.Dispose(); conf.Dispose();
    }

    [Fact]
    public void Four_pixels_of_a_cell_at_a_time_give_exactly_what_one_pixel_at_a_time_gives()
    {
        // A camera panning and tilting by uneven steps over blobs of classes, with wavering labels and confidence and depth
        // with holes: the vector path of each cell must write the same bits as the per-pixel path, frame after frame.
        using var tex = Texture(5, W + 200, H + 120);
        var vector = new FlowFusion();
        var scalar = new FlowFusion(new FlowFusion.Settings { PixelByPixel = true });
        var rng = new Random(11);
        int[] steps = [0, 3, 5, 6, 9, 10, 14, 15, 19, 22];
        var fusedSomewhere = false;
        for (var f = 0; f < steps.Length; f++)
        {
            using var image = tex[new Rect(32 + steps[f], 32 + steps[f] / 3, W, H)].Clone();
            var (labels, depth, conf) = Outputs(0, 0.8f);
            for (var y = 0; y < H; y++)
                for (var x = 0; x < W; x++)
                {
                    var v = image.At<Vec3b>(y, x).Item1;
                    labels.Set(y, x, rng.NextDouble() < 0.2 ? (byte)rng.Next(6) : (byte)(v / 50));
                    conf.Set(y, x, (float)(0.3 + 0.7 * rng.NextDouble()));
                    depth.Set(y, x, rng.NextDouble() < 0.02 ? 0f : 1f + v / 64f + (float)(0.2 * rng.NextDouble()));
                }
            using var model = labels.Clone();
            using Mat labels2 = labels.Clone(), depth2 = depth.Clone(), conf2 = conf.Clone();
            vector.Apply(image, labels, depth, conf);
            scalar.Apply(image, labels2, depth2, conf2);
            using var labelDiff = new Mat();
            Cv2.Compare(labels, labels2, labelDiff, CmpTypes.NE);
            Assert.Equal(0, Cv2.CountNonZero(labelDiff));
            depth.GetArray(out float[] d1); depth2.GetArray(out float[] d2);
            Assert.Equal(d2.Select(BitConverter.SingleToInt32Bits), d1.Select(BitConverter.SingleToInt32Bits));
            Cv2.Compare(labels, model, labelDiff, CmpTypes.NE);
            fusedSomewhere |= f > 0 && Cv2.CountNonZero(labelDiff) > W * H / 50;
            labels.Dispose(); depth.Dispose(); conf.Dispose();
        }
        Assert.True(fusedSomewhere, "the fusion kept no carried label anywhere, so the comparison tested nothing");
    }

    [Fact]
    public void A_panning_camera_keeps_its_labels_along_the_motion_where_the_model_wavers()
    {
        // The true labels are stripes fixed to the scene; the camera pans 3 px a frame; each frame the model gets 15 %
        // of the pixels wrong (class 9, low confidence), different ones every frame. Fused, the noise must drop.
        using var tex = Texture(2, W + 200);
        var fusion = new FlowFusion();
        var rng = new Random(3);
        double rawWrong = 0, fusedWrong = 0;
        for (var f = 0; f < 12; f++)
        {
            using var image = tex[new Rect(32 + 3 * f, 32, W, H)].Clone();
            var (labels, depth, conf) = Outputs(0, 0.8f);
            var wrong = 0;
            for (var y = 0; y < H; y++)
                for (var x = 0; x < W; x++)
                {
                    var truth = (byte)(((x + 3 * f) / 40) % 3);
                    var noisy = rng.NextDouble() < 0.15;
                    labels.Set(y, x, noisy ? (byte)9 : truth);
                    conf.Set(y, x, noisy ? 0.4f : 0.8f);
                    if (noisy) wrong++;
                }
            fusion.Apply(image, labels, depth, conf);
            if (f >= 4)
            {
                rawWrong += wrong / (double)(W * H);
                var fusedErr = 0;
                for (var y = 0; y < H; y++)
                    for (var x = 8; x < W - 8; x++)
                        if (labels.At<byte>(y, x) != (byte)(((x + 3 * f) / 40) % 3)) fusedErr++;
                fusedWrong += fusedErr / (double)(H * (W - 16));
            }
            labels.Dispose(); depth.Dispose(); conf.Dispose();
        }
        Assert.True(fusedWrong < rawWrong / 4, $"wrong pixels: model {rawWrong / 8:P2} a frame, fused {fusedWrong / 8:P2}");
    }

    [Fact]
    public void A_cut_resets_within_one_frame_and_no_class_of_the_old_scene_survives()
    {
        using var a = Texture(4);
        using var b = Texture(5);
        var fusion = new FlowFusion();
        for (var f = 0; f < 6; f++)
        {
            using var image = View(a, 0);
            var (l, d, c) = Outputs(1, 0.95f, 3f);
            fusion.Apply(image, l, d, c);
            l.Dispose(); d.Dispose(); c.Dispose();
        }
        using var cut = View(b, 0);
        var (labels, depth, conf) = Outputs(2, 0.5f, 1f);
        fusion.Apply(cut, labels, depth, conf);
        Assert.Equal(1, fusion.Resets);
        Assert.Equal(0, Share(labels, 1));
        Assert.Equal(1f, depth.At<float>(H / 2, W / 2), 3);
    }

    [Fact]
    public void A_new_object_entering_the_frame_is_labelled_within_two_frames()
    {
        using var background = Texture(6);
        // The object looks unlike the wall behind it (brighter, its own texture); one that matches the background's grey
        // levels within the photometric tolerance is carried as background until the model's evidence overturns it.
        using var thing = new Mat();
        Cv2.Add(Texture(7, 64, 64), Scalar.All(70), thing);
        var fusion = new FlowFusion();
        var square = new Rect(96, 64, 64, 64);
        for (var f = 0; f < 8; f++)
        {
            using var image = View(background, 0);
            var (l, d, c) = Outputs(0, 0.95f);
            if (f >= 6)
            {
                thing.CopyTo(image[square]);
                l[square].SetTo(Scalar.All(5));
                c[square].SetTo(Scalar.All(0.55));
                // Meanwhile the model wavers on a band of the unchanged wall: that is noise and must not pass.
                l[new Rect(0, 0, W, 40)].SetTo(Scalar.All(3));
                c[new Rect(0, 0, W, 40)].SetTo(Scalar.All(0.5));
            }
            fusion.Apply(image, l, d, c);
            if (f == 6 || f == 7)
            {
                var inside = Share(l, 5, new Rect(square.X + 4, square.Y + 4, square.Width - 8, square.Height - 8));
                Assert.True(inside > 0.95, $"frame {f - 5} of the object: {inside:P1} of it labelled");
                Assert.True(Share(l, 0, new Rect(0, 4, W, 32)) > 0.95, $"the wall kept {Share(l, 0, new Rect(0, 4, W, 32)):P1} of its class");
            }
            l.Dispose(); d.Dispose(); c.Dispose();
        }
    }

    [Fact]
    public void An_object_moving_over_a_still_wall_keeps_its_edges_where_a_cell_of_the_motion_straddles_them()
    {
        // A bright square slides right 5 px a frame over a still wall; the model is right every frame. A cell of the
        // quarter-size motion that holds both the square and the wall has one flow: without the check at model
        // resolution its wrong-moving pixels would carry the other side's class across the edge.
        using var wall = Texture(10);
        using var thing = new Mat();
        Cv2.Add(Texture(11, 64, 64), Scalar.All(90), thing);
        var fusion = new FlowFusion();
        long band = 0, wrong = 0;
        for (var f = 0; f < 14; f++)
        {
            using var image = View(wall, 0);
            var square = new Rect(40 + 5 * f, 66, 64, 64);
            thing.CopyTo(image[square]);
            var (l, d, c) = Outputs(0, 0.6f);
            l[square].SetTo(Scalar.All(5));
            fusion.Apply(image, l, d, c);
            if (f >= 4)
                for (var y = square.Y + 4; y < square.Bottom - 4; y++)
                    foreach (var edge in new[] { square.X, square.Right })
                        for (var x = edge - 3; x < edge + 3; x++)
                        {
                            band++;
                            if (l.At<byte>(y, x) != (x >= square.X && x < square.Right ? 5 : 0)) wrong++;
                        }
            l.Dispose(); d.Dispose(); c.Dispose();
        }
        Assert.True(wrong < 0.02 * band, $"{wrong} of {band} pixels within 3 px of the square's sides carry the other side's class");
    }

    [Fact]
    public void A_static_camera_steadies_depth_as_a_running_mean_in_log_depth()
    {
        using var tex = Texture(8);
        var fusion = new FlowFusion();
        var rng = new Random(9);
        double rawChange = 0, fusedChange = 0;
        float prevRaw = 0, prevFused = 0;
        for (var f = 0; f < 20; f++)
        {
            using var image = View(tex, 0);
            var raw = 2f * (1 + 0.05f * (float)(rng.NextDouble() - 0.5));
            var (l, d, c) = Outputs(0, 0.9f, raw);
            fusion.Apply(image, l, d, c);
            var fused = d.At<float>(H / 2, W / 2);
            if (f > 5) { rawChange += Math.Abs(raw - prevRaw); fusedChange += Math.Abs(fused - prevFused); }
            (prevRaw, prevFused) = (raw, fused);
            l.Dispose(); d.Dispose(); c.Dispose();
        }
        Assert.True(fusedChange < rawChange / 2, $"depth change a frame: model {rawChange / 14:0.0000} m, fused {fusedChange / 14:0.0000} m");
    }
}
