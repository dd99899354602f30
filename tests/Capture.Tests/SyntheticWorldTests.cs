using OpenCvSharp;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Capture.Tests;

public class SyntheticWorldTests
{
    [Fact]
    public void Same_seed_gives_identical_frames_and_another_seed_does_not()
    {
        var a = new SyntheticSource(new SyntheticOptions { Seed = 3, Frames = 10 });
        var b = new SyntheticSource(new SyntheticOptions { Seed = 3, Frames = 10 });
        var c = new SyntheticSource(new SyntheticOptions { Seed = 4, Frames = 10 });
        using var fa = a.RenderFrame(7); using var fb = b.RenderFrame(7); using var fc = c.RenderFrame(7);
        Assert.Equal(Tools.Bytes(fa.Image), Tools.Bytes(fb.Image));
        Assert.Equal(Tools.Bytes(fa.Depth!), Tools.Bytes(fb.Depth!));
        Assert.Equal(Tools.Bytes(fa.Labels!), Tools.Bytes(fb.Labels!));
        Assert.NotEqual(Tools.Bytes(fa.Image), Tools.Bytes(fc.Image));
    }

    [Fact]
    public void Floor_and_ceiling_depth_equal_the_analytic_plane_distance_and_lie_on_the_right_side_of_the_horizon()
    {
        var room = new SyntheticRoom(5);
        const double height = 1.4;
        var pose = new CameraPose(new Vec3(room.Width / 2, height, 0.4), 0, 0); // level camera looking along +z
        var k = SyntheticWorld.Intrinsics(320, 240);
        using var image = new Mat(); using var depth = new Mat(); using var labels = new Mat();
        SyntheticRenderer.Render(room, pose, k, image, depth, labels);
        int floor = 0, ceiling = 0;
        for (var v = 0; v < 240; v++)
            for (var u = 0; u < 320; u++)
            {
                var z = depth.At<float>(v, u);
                Assert.True(z > 0 && float.IsFinite(z));
                var label = labels.At<byte>(v, u);
                if (label == SyntheticRoom.Floor)
                {
                    floor++;
                    Assert.True(v > k.Cy, $"floor pixel ({u},{v}) above the horizon");
                    Assert.Equal(k.Fy * height / (v - k.Cy), z, 0.002 * z);
                }
                else if (label == SyntheticRoom.Ceiling)
                {
                    ceiling++;
                    Assert.True(v < k.Cy, "ceiling pixel below the horizon");
                    Assert.Equal(k.Fy * (room.Height - height) / (k.Cy - v), z, 0.002 * z);
                }
                else if (label == SyntheticRoom.Wall)
                {
                    // Nothing lies beyond the far wall.
                    Assert.True(z <= room.Depth - 0.4 + 1e-3);
                }
            }
        Assert.True(floor > 1000 && ceiling > 100, $"floor {floor}, ceiling {ceiling} pixels");
    }

    [Fact]
    public void Walk_frames_cover_many_classes_with_textured_not_flat_surfaces()
    {
        var source = new SyntheticSource(new SyntheticOptions { Seed = 1, Frames = 100 });
        var seen = new HashSet<byte>();
        for (var i = 0; i < 100; i += 10)
        {
            using var f = source.RenderFrame(i);
            foreach (var b in Tools.Bytes(f.Labels!)) seen.Add(b);
            // Texture: within the wall class, colour varies.
            Cv2.MeanStdDev(f.Image, out _, out var std);
            Assert.True(std.Val0 > 10);
        }
        Assert.True(seen.Count >= 7, $"classes seen: {string.Join(",", seen)}");
        Assert.All(seen, l => Assert.True(l < LabelSet.Nyu13.Count));
    }

    [Fact]
    public void Sensor_noise_quantises_and_punches_holes_but_keeps_depth_close()
    {
        var clean = new SyntheticSource(new SyntheticOptions { Seed = 2, Frames = 2 });
        var noisy = new SyntheticSource(new SyntheticOptions { Seed = 2, Frames = 2, DepthNoise = true });
        using var a = clean.RenderFrame(1); using var b = noisy.RenderFrame(1);
        var holes = 0; var close = 0; var total = 0;
        for (var v = 0; v < 240; v += 2)
            for (var u = 0; u < 320; u += 2)
            {
                var za = a.Depth!.At<float>(v, u); var zb = b.Depth!.At<float>(v, u);
                total++;
                if (zb == 0) holes++;
                else if (Math.Abs(za - zb) < 0.05 * za) close++;
            }
        Assert.InRange(holes, 1, total / 4);
        Assert.True(close > (total - holes) * 0.95);
    }

    [Fact]
    public void Synthetic_spec_parses_and_rejects_unknown_keys()
    {
        var o = SourceFactory.ParseSynthetic("synthetic:seed=3,frames=500,size=160x120,fps=15,noise=1");
        Assert.Equal((3, 500, 160, 120, 15.0, true), (o.Seed, o.Frames, o.Width, o.Height, o.Fps, o.DepthNoise));
        Assert.Throws<SourceException>(() => SourceFactory.ParseSynthetic("synthetic:colour=red"));
        Assert.Throws<SourceException>(() => SourceFactory.ParseSynthetic("synthetic:frames=-3"));
    }

    [Fact]
    public void Intrinsics_scale_with_resolution()
    {
        var k = CameraIntrinsics.Nyu.ScaledTo(320, 240);
        Assert.Equal(CameraIntrinsics.Nyu.Fx / 2, k.Fx, 6);
        Assert.Equal((CameraIntrinsics.Nyu.Cx + 0.5) / 2 - 0.5, k.Cx, 6);
    }
}
