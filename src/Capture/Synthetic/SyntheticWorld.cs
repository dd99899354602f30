namespace RealtimeMtl.Capture.Synthetic;

/// <summary>
/// The synthetic indoor RGB-D world: still samples (a fresh room and a random viewpoint per index, for training)
/// and smooth camera walks through one room (the demo stream). Deterministic by seed.
/// </summary>
public static class SyntheticWorld
{
    /// <summary>The camera: NYU-v2 Kinect intrinsics scaled to the requested size.</summary>
    public static CameraIntrinsics Intrinsics(int width, int height) => CameraIntrinsics.Nyu.ScaledTo(width, height);

    /// <summary>
    /// One training sample: room and viewpoint chosen by (seed, index). The classic world keeps NYU's Kinect camera
    /// and one lamp; <paramref name="randomised"/> draws the domain-randomised world instead (<see cref="DomainRandomisation"/>):
    /// random surfaces, lights with soft shadows, clutter, field of view, height, pitch, roll and camera effects.
    /// Depth and labels are exact in both. Returns the intrinsics the still was rendered with.
    /// </summary>
    public static CameraIntrinsics RenderStill(int seed, long index, int width, int height, Mat image, Mat depth, Mat labels, bool depthNoise = false,
        bool randomised = false)
    {
        var room = new SyntheticRoom(seed, index, randomised);
        var rng = Rng.For(seed, index * 31 + 5);
        CameraPose pose;
        CameraIntrinsics k;
        if (randomised)
        {
            (pose, k) = DomainRandomisation.Camera(room, width, height, ref rng);
        }
        else
        {
            var (x0, z0, x1, z1) = room.FreeArea;
            pose = new CameraPose(
                new Vec3(rng.Range(x0, x1), rng.Range(0.9, 1.8), rng.Range(z0, z1)),
                rng.Range(-0.7, 0.7),
                rng.Range(-0.45, 0.1));
            k = Intrinsics(width, height);
        }
        SyntheticRenderer.Render(room, pose, k, image, depth, labels);
        if (randomised)
        {
            var fx = Rng.For(seed, index * 31 + 6);
            CameraEffects.Draw(ref fx).Apply(image, ref fx);
        }
        if (depthNoise) AddSensorNoise(depth, seed, index);
        return k;
    }

    /// <summary>The pose of frame <paramref name="frame"/> of a walk: a slow loop through the free area, panning and tilting.</summary>
    public static CameraPose WalkPose(SyntheticRoom room, long frame, double fps)
    {
        var t = frame / fps;
        var (x0, z0, x1, z1) = room.FreeArea;
        double cx = (x0 + x1) / 2, cz = (z0 + z1) / 2, rx = (x1 - x0) / 2 * 0.8, rz = (z1 - z0) / 2 * 0.8;
        var a = t * 2 * Math.PI / 24.0;
        var position = new Vec3(cx + rx * Math.Sin(a), 1.35 + 0.15 * Math.Sin(t * 0.7), cz + rz * Math.Sin(2 * a) * 0.5);
        return new CameraPose(position, 0.6 * Math.Sin(t * 2 * Math.PI / 16.0), -0.2 + 0.12 * Math.Sin(t * 2 * Math.PI / 11.0));
    }

    /// <summary>Kinect-like depth: error and quantisation growing with z squared, holes at depth edges and beyond 8 m.</summary>
    public static unsafe void AddSensorNoise(Mat depth, int seed, long index)
    {
        var rng = Rng.For(seed, index * 977 + 3);
        int w = depth.Width, h = depth.Height;
        var p = (float*)depth.Data;
        var copy = new float[w * h];
        new ReadOnlySpan<float>(p, w * h).CopyTo(copy);
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                var z = copy[i];
                var edge = x + 1 < w && Math.Abs(copy[i + 1] - z) > 0.08 * z || y + 1 < h && Math.Abs(copy[i + w] - z) > 0.08 * z;
                if (z > 8 || (edge && rng.Chance(0.6)) || rng.Chance(0.003)) { p[i] = 0; continue; }
                var step = 0.00285 * z * z; // disparity quantisation of a 580 px / 7.5 cm baseline sensor
                var noisy = z + rng.Gaussian() * 0.0012 * z * z;
                p[i] = (float)(Math.Round(noisy / step) * step);
            }
    }
}
