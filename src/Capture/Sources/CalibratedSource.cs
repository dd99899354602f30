namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// Gives every frame of a source the user's own calibration (<c>--intrinsics</c>), scaled to the frame's size, and
/// with <c>--undistort</c> rectifies the image (bilinear) and any depth or labels (nearest) before inference, as ROS
/// image_proc does: with the calibration's rotation R and into the camera of its projection P (K when it has none). The
/// rectified frames carry that camera (<see cref="CameraIntrinsics.Rectified"/>): P's matrix, no distortion, R identity.
/// The remap tables are built once per frame size.
/// </summary>
public sealed class CalibratedSource(IFrameSource inner, CameraIntrinsics calibration, bool undistort) : IFrameSource
{
    private (int W, int H, Mat Map1, Mat Map2)? _maps;

    public string Description => inner.Description;
    public bool IsLive => inner.IsLive;
    public double? NominalFps => inner.NominalFps;
    public long? FrameCount => inner.FrameCount;
    public long DroppedInternally => inner.DroppedInternally;
    public bool TimedByMedia => inner.TimedByMedia;

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var frame in inner.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            yield return Apply(frame);
    }

    /// <summary>The frame with the calibration (and rectified, with --undistort); the input frame's Mats move to the result.</summary>
    public Frame Apply(Frame frame)
    {
        var k = calibration.ScaledTo(frame.Width, frame.Height);
        if (!undistort || !k.NeedsRectifying) return frame.With(frame.Image, k);
        if (_maps is not { } m || m.W != frame.Width || m.H != frame.Height)
        {
            _maps?.Map1.Dispose(); _maps?.Map2.Dispose();
            using var cameraMatrix = Mat.FromPixelData(3, 3, MatType.CV_64FC1, k.K);
            using var dist = Mat.FromPixelData(1, k.DistortionOrZeros.Length, MatType.CV_64FC1, k.DistortionOrZeros);
            var map1 = new Mat(); var map2 = new Mat();
            using var rotation = Mat.FromPixelData(3, 3, MatType.CV_64FC1, k.R);
            var p = k.P;
            using var projection = Mat.FromPixelData(3, 3, MatType.CV_64FC1, new[] { p[0], p[1], p[2], p[4], p[5], p[6], p[8], p[9], p[10] });
            Cv2.InitUndistortRectifyMap(cameraMatrix, dist, rotation, projection, new Size(frame.Width, frame.Height), MatType.CV_16SC2, map1, map2);
            _maps = m = (frame.Width, frame.Height, map1, map2);
        }
        var image = new Mat();
        Cv2.Remap(frame.Image, image, m.Map1, m.Map2, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        Mat? depth = null, labels = null;
        if (frame.Depth is { } d)
        {
            depth = new Mat(); Cv2.Remap(d, depth, m.Map1, m.Map2, InterpolationFlags.Nearest, BorderTypes.Constant,
            Scalar.All(0));
        }
        if (frame.Labels is { } l)
        {
            labels = new Mat(); Cv2.Remap(l, labels, m.Map1, m.Map2, InterpolationFlags.Nearest, BorderTypes.Constant,
            Scalar.All(LabelSet.Ignore));
        }
        var result = frame.With(image, k.Rectified(), depth, labels);
        frame.Dispose();
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        _maps?.Map1.Dispose(); _maps?.Map2.Dispose();
        await inner.DisposeAsync().ConfigureAwait(false);
    }
}
