namespace RealtimeMtl.Capture.Frames;

/// <summary>Pinhole intrinsics in pixels for an image of <see cref="Width"/> x <see cref="Height"/>.</summary>
public sealed record CameraIntrinsics(double Fx, double Fy, double Cx, double Cy, int Width, int Height)
{
    /// <summary>NYU-Depth-v2 Kinect colour camera (640x480), the intrinsics the synthetic world also uses.</summary>
    public static CameraIntrinsics Nyu { get; } = new(518.857901, 519.469611, 325.582449, 253.736166, 640, 480);

    /// <summary>The same camera seen at another resolution.</summary>
    public CameraIntrinsics ScaledTo(int width, int height)
    {
        double sx = (double)width / Width, sy = (double)height / Height;
        return new CameraIntrinsics(Fx * sx, Fy * sy, (Cx + 0.5) * sx - 0.5, (Cy + 0.5) * sy - 0.5, width, height);
    }
}
