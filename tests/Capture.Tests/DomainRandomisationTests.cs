using OpenCvSharp;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Capture.Tests;

/// <summary>The domain-randomised synthetic world: wide variation, exact depth and labels, deterministic by seed.</summary>
public class DomainRandomisationTests
{
    [Fact]
    public void Randomised_room_keeps_the_classic_layout_and_labels_and_only_adds_objects()
    {
        for (var variant = 0; variant < 5; variant++)
        {
            var classic = new SyntheticRoom(3, variant);
            var dr = new SyntheticRoom(3, variant, randomised: true);
            Assert.Equal((classic.Width, classic.Height, classic.Depth), (dr.Width, dr.Height, dr.Depth));
            Assert.True(dr.Boxes.Count >= classic.Boxes.Count);
            for (var i = 0; i < classic.Boxes.Count; i++)
                Assert.Equal((classic.Boxes[i].Min, classic.Boxes[i].Max, classic.Boxes[i].Label), (dr.Boxes[i].Min, dr.Boxes[i].Max,
                    dr.Boxes[i].Label));
            Assert.All(dr.Boxes.Skip(classic.Boxes.Count), b => Assert.Equal(SyntheticRoom.Objects, b.Label));
            Assert.Equal(classic.Decals.Select(d => (d.Face, d.A0, d.A1, d.Label)), dr.Decals.Select(d => (d.Face, d.A0, d.A1, d.Label)));
            Assert.InRange(dr.Lights.Count, 1, 4);
            Assert.True(dr.Shadows);
            Assert.False(classic.Shadows);
        }
    }

    [Fact]
    public void Randomised_stills_vary_field_of_view_lights_colour_temperature_and_surfaces()
    {
        var fovs = new List<double>();
        var lightCounts = new HashSet<int>();
        var blueToRed = new List<double>();
        var patterns = new HashSet<Pattern>();
        for (var i = 0; i < 24; i++)
        {
            using var image = new Mat(); using var depth = new Mat(); using var labels = new Mat();
            var k = SyntheticWorld.RenderStill(1, i, 160, 120, image, depth, labels, randomised: true);
            fovs.Add(2 * Math.Atan(80 / k.Fx) * 180 / Math.PI);
            var room = new SyntheticRoom(1, i, true);
            lightCounts.Add(room.Lights.Count);
            blueToRed.AddRange(room.Lights.Select(l => l.Color.X / l.Color.Z));
            patterns.UnionWith(room.Boxes.Select(b
                => b.Material.Pattern).Append(room.FloorMaterial.Pattern).Append(room.WallMaterial.Pattern).Concat(room.Decals.Select(d
                    => d.Material.Pattern)));
        }
        Assert.All(fovs, f => Assert.InRange(f, 50, 75));
        Assert.True(fovs.Max() - fovs.Min() > 15, $"field of view spans {fovs.Min():0}-{fovs.Max():0} degrees");
        Assert.True(lightCounts.Count >= 3, $"light counts seen: {string.Join(",", lightCounts)}");
        // Tungsten (blue well below red) to daylight (nearly neutral).
        Assert.True(blueToRed.Min() < 0.4 && blueToRed.Max() > 0.8, $"blue/red of the lights: {blueToRed.Min():0.00}-{blueToRed.Max():0.00}");
        Assert.Superset(new HashSet<Pattern> { Pattern.Wood, Pattern.Fabric, Pattern.Plaster, Pattern.Carpet, Pattern.Tiles, Pattern.Procedural },
            patterns);
    }

    [Fact]
    public void Randomised_depth_is_exact_on_the_floor_plane_with_roll_and_any_field_of_view()
    {
        // A rolled, pitched camera in a randomised room: every floor pixel's z-depth equals the plane distance
        // along its ray, projected on the optical axis.
        var room = new SyntheticRoom(8, 2, randomised: true);
        var pose = new CameraPose(new Vec3(room.Width / 2, 1.1, 0.5), 0.3, -0.35, 0.1);
        var k = new RealtimeMtl.Pipeline.Frames.CameraIntrinsics(90, 90, 79.5, 59.5, 160, 120);
        using var image = new Mat(); using var depth = new Mat(); using var labels = new Mat();
        SyntheticRenderer.Render(room, pose, k, image, depth, labels);
        var floor = 0;
        for (var v = 0; v < 120; v++)
            for (var u = 0; u < 160; u++)
            {
                if (labels.At<byte>(v, u) != SyntheticRoom.Floor) continue;
                floor++;
                double x = (u - k.Cx) / k.Fx, y = -(v - k.Cy) / k.Fy;
                var ray = pose.Forward + pose.Right * x + pose.Up * y;
                var t = -pose.Position.Y / ray.Y; // z-depth: the ray has unit length along the optical axis
                Assert.Equal(t, depth.At<float>(v, u), 0.002 * t);
            }
        Assert.True(floor > 1000, $"{floor} floor pixels");
    }

    [Fact]
    public void A_rolled_camera_keeps_an_orthonormal_frame_and_tilts_the_horizon()
    {
        var level = new CameraPose(new Vec3(0, 1, 0), 0.4, -0.2);
        var rolled = level with { Roll = 0.2 };
        foreach (var p in new[] { level, rolled })
        {
            Assert.Equal(1, p.Right.Length, 9);
            Assert.Equal(1, p.Up.Length, 9);
            Assert.Equal(0, p.Right.Dot(p.Forward), 9);
            Assert.Equal(0, p.Up.Dot(p.Forward), 9);
        }
        Assert.Equal(0, level.Right.Y, 9);
        Assert.Equal(Math.Cos(0.2) * Math.Sin(0.2), Math.Abs(rolled.Right.Y), 6); // cos(pitch) sin(roll)
        Assert.Equal(level.Forward, rolled.Forward);
    }

    [Fact]
    public void Camera_effects_change_only_the_image_as_drawn_and_none_changes_nothing()
    {
        using var grey = new Mat(120, 160, MatType.CV_8UC3, Scalar.All(128));
        using var copy = grey.Clone();
        var rng = Rng.For(1, 1);
        CameraEffects.None.Apply(copy, ref rng);
        Assert.Equal(Tools.Bytes(grey), Tools.Bytes(copy));

        // Vignetting darkens the corners; the target mean sets the exposure.
        var vignette = CameraEffects.None with { TargetMean = 128, Vignette = 0.4 };
        vignette.Apply(copy, ref rng);
        Assert.True(copy.At<Vec3b>(60, 80).Item0 > copy.At<Vec3b>(0, 0).Item0 + 30,
            $"centre {copy.At<Vec3b>(60, 80).Item0}, corner {copy.At<Vec3b>(0, 0).Item0}");

        // Noise of a given level spreads the values by about that much.
        using var noisy = grey.Clone();
        (CameraEffects.None with { TargetMean = 128, Noise = 6 }).Apply(noisy, ref rng);
        Cv2.MeanStdDev(noisy, out var mean, out var sd);
        Assert.InRange(sd.Val0, 4, 12);
        Assert.InRange(mean.Val0, 124, 132);
    }

    [Fact]
    public void Synthetic_stream_takes_world_randomised_and_stays_deterministic()
    {
        var o = SourceFactory.ParseSynthetic("synthetic:world=randomised,frames=5,size=160x120");
        Assert.True(o.Randomised);
        Assert.Throws<SourceException>(() => SourceFactory.ParseSynthetic("synthetic:world=photoreal"));
        using var a = new SyntheticSource(o).RenderFrame(3);
        using var b = new SyntheticSource(o).RenderFrame(3);
        using var c = new SyntheticSource(o with { Randomised = false }).RenderFrame(3);
        Assert.Equal(Tools.Bytes(a.Image), Tools.Bytes(b.Image));
        Assert.NotEqual(Tools.Bytes(a.Image), Tools.Bytes(c.Image));
        // Same room layout and camera path: the labels agree except where the randomised world added clutter.
        var la = Tools.Bytes(a.Labels!); var lc = Tools.Bytes(c.Labels!);
        for (var i = 0; i < la.Length; i++)
            if (la[i] != lc[i]) Assert.Equal(SyntheticRoom.Objects, la[i]);
    }
}
