namespace RealtimeMtl.Pipeline.Frames;

/// <summary>
/// Pinhole intrinsics in pixels for an image of <see cref="Width"/> x <see cref="Height"/>, with the lens
/// distortion where known (OpenCV's order k1, k2, p1, p2[, k3[, k4, k5, k6]]; empty = none).
/// </summary>
public sealed record CameraIntrinsics(double Fx, double Fy, double Cx, double Cy, int Width, int Height)
{
    /// <summary>NYU-Depth-v2 Kinect colour camera (640x480), the intrinsics the synthetic world also uses.</summary>
    public static CameraIntrinsics Nyu { get; } = new(518.857901, 519.469611, 325.582449, 253.736166, 640, 480);

    /// <summary>Distortion coefficients; they are in normalised image coordinates, so they do not change with resolution.</summary>
    public double[] Distortion { get; init; } = [];

    /// <summary>ROS's name for the distortion model: plumb_bob (5 coefficients) or rational_polynomial (8).</summary>
    public string DistortionModel => Distortion.Length > 5 ? "rational_polynomial" : "plumb_bob";

    /// <summary>D as ROS publishes it: the coefficients, or five zeros for a camera without distortion.</summary>
    public double[] DistortionOrZeros => Distortion.Length > 0 ? Distortion : [0, 0, 0, 0, 0];

    /// <summary>The same camera: size, focal lengths, principal point and distortion (records compare arrays by reference).</summary>
    public bool SameCamera(CameraIntrinsics? other) =>
        other is not null && Width == other.Width && Height == other.Height && Fx == other.Fx && Fy == other.Fy && Cx == other.Cx && Cy == other.Cy
        && Distortion.AsSpan().SequenceEqual(other.Distortion);

    /// <summary>The rectification rotation R (3x3, row-major) of a ROS calibration; null: identity (a monocular camera).</summary>
    public double[]? Rectification { get; init; }

    /// <summary>The projection P (3x4, row-major) of a ROS calibration, the camera of the rectified image; null: K with a zero fourth
    /// column.</summary>
    public double[]? Projection { get; init; }

    /// <summary>Whether rectifying changes the image: distortion, a rotation R, or a projection P other than K.</summary>
    public bool NeedsRectifying => IsDistorted || (Rectification is { } r && !r.AsSpan().SequenceEqual(Identity)) || (Projection is { } p
        && !p.AsSpan().SequenceEqual(FromK));

    private static readonly double[] Identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];

    /// <summary>The camera of the rectified image (what image_proc publishes with image_rect): P's camera matrix, no distortion, R identity, P
    /// kept.</summary>
    public CameraIntrinsics Rectified()
    {
        var p = P;
        return new CameraIntrinsics(p[0], p[5], p[2], p[6], Width, Height) { Projection = p };
    }

    /// <summary>Whether any distortion coefficient is non-zero.</summary>
    public bool IsDistorted => Distortion.Any(d => d != 0);

    /// <summary>The same camera seen at another resolution.</summary>
    /// <summary>The camera of a frame at its size: its own intrinsics, or NYUD-v2's Kinect when the source gives none.</summary>
    public static CameraIntrinsics ForFrame(CameraIntrinsics? known, int width, int height) => (known ?? Nyu).ScaledTo(width, height);

    public CameraIntrinsics ScaledTo(int width, int height)
    {
        if (width == Width && height == Height) return this;
        double sx = (double)width / Width, sy = (double)height / Height;
        double[]? p = Projection is { } q ? [q[0] * sx, q[1] * sx, (q[2] + 0.5) * sx - 0.5, q[3] * sx, q[4] * sy, q[5] * sy, (q[6] + 0.5) * sy - 0.5,
            q[7] * sy, q[8], q[9], q[10], q[11]] : null;
        return new CameraIntrinsics(Fx * sx, Fy * sy, (Cx + 0.5) * sx - 0.5, (Cy + 0.5) * sy - 0.5, width, height)
        {
            Distortion = Distortion,
            Rectification = Rectification, Projection = p
        };
    }

    /// <summary>The 3x3 camera matrix K, row-major.</summary>
    public double[] K => [Fx, 0, Cx, 0, Fy, Cy, 0, 0, 1];

    /// <summary>The 3x4 projection matrix P, row-major: the calibration's, or for a monocular camera K with a zero fourth column.</summary>
    public double[] P => Projection ?? FromK;

    /// <summary>The rectification rotation R, row-major (identity for a monocular camera).</summary>
    public double[] R => Rectification ?? Identity;

    private double[] FromK => [Fx, 0, Cx, 0, 0, Fy, Cy, 0, 0, 0, 1, 0];

    /// <summary>Back-projects pixel (u, v) at z-depth <paramref name="z"/> metres to camera coordinates (x right, y down, z forward).</summary>
    public (float X, float Y, float Z) BackProject(double u, double v, float z) => ((float)((u - Cx) * z / Fx), (float)((v - Cy) * z / Fy), z);
}
