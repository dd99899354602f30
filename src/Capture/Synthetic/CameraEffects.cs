namespace RealtimeMtl.Capture.Synthetic;

/// <summary>
/// What a real camera does to an image, drawn per still: auto exposure toward a random target brightness, white
/// balance error, vignetting, lens or motion blur, shot and read noise, and JPEG compression. Only the colour image
/// changes; depth and labels stay exact.
/// </summary>
public sealed record CameraEffects(double TargetMean, Vec3 WhiteBalance, double Vignette, double BlurSigma, double MotionBlur, double Noise,
    int JpegQuality)
{
    /// <summary>No change at all (for tests).</summary>
    public static CameraEffects None { get; } = new(0, new Vec3(1, 1, 1), 0, 0, 0, 0, 0);

    public static CameraEffects Draw(ref Rng rng) => new(
        TargetMean: rng.Range(70, 150),
        WhiteBalance: new Vec3(rng.Range(0.85, 1.15), rng.Range(0.92, 1.08), rng.Range(0.85, 1.15)),
        Vignette: rng.Chance(0.7) ? rng.Range(0.05, 0.45) : 0,
        BlurSigma: rng.Chance(0.6) ? rng.Range(0.3, 1.4) : 0,
        MotionBlur: rng.Chance(0.2) ? rng.Range(2, 7) : 0,
        Noise: rng.Range(0.5, 7),
        JpegQuality: rng.Chance(0.6) ? rng.Int(30, 95) : 0);

    /// <summary>Applies the effects to a CV_8UC3 BGR image in place; <paramref name="rng"/> draws the noise.</summary>
    public unsafe void Apply(Mat image, ref Rng rng)
    {
        if (this == None) return;
        if (BlurSigma > 0) Cv2.GaussianBlur(image, image, new Size(0, 0), BlurSigma);
        if (MotionBlur >= 2)
        {
            // A horizontal-ish streak: a line kernel of MotionBlur pixels at a random angle.
            var len = (int)MotionBlur | 1;
            using var kernel = new Mat(len, len, MatType.CV_32FC1, Scalar.All(0));
            var angle = rng.Range(-0.6, 0.6);
            for (var i = 0; i < len; i++)
            {
                var t = i - len / 2;
                int x = len / 2 + (int)Math.Round(t * Math.Cos(angle)), y = len / 2 + (int)Math.Round(t * Math.Sin(angle));
                kernel.Set(y, x, 1f);
            }
            var sum = Cv2.Sum(kernel).Val0;
            using var normalised = kernel / sum;
            using var k = normalised.ToMat();
            Cv2.Filter2D(image, image, -1, k);
        }
        int w = image.Width, h = image.Height;
        var p = (byte*)image.Data;
        var mean = Cv2.Mean(image);
        var gain = Math.Clamp(TargetMean / Math.Max(1, (mean.Val0 + mean.Val1 + mean.Val2) / 3), 0.4, 3.0);
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0, r2max = cx * cx + cy * cy;
        for (var y = 0; y < h; y++)
        {
            var row = p + y * image.Step();
            for (var x = 0; x < w; x++)
            {
                var v = 1 - Vignette * ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / r2max;
                for (var c = 0; c < 3; c++)
                {
                    var wb = c == 0 ? WhiteBalance.X : c == 1 ? WhiteBalance.Y : WhiteBalance.Z;
                    var value = row[x * 3 + c] * gain * wb * v;
                    // Shot noise grows with the signal, read noise does not.
                    value += rng.Gaussian() * Noise * (0.5 + Math.Sqrt(Math.Max(0, value) / 255));
                    row[x * 3 + c] = (byte)Math.Clamp(value + 0.5, 0, 255);
                }
            }
        }
        if (JpegQuality > 0)
        {
            Cv2.ImEncode(".jpg", image, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, JpegQuality));
            using var decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
            decoded.CopyTo(image);
        }
    }
}
