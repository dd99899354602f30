namespace RealtimeMtl.Training.Data;

/// <summary>
/// Training augmentation applied consistently to image, labels and depth: random zoom (scale up then crop back
/// to size; depth divided by the zoom factor, since a zoomed view looks like a closer scene), horizontal flip,
/// colour jitter (brightness, contrast, per-channel gain) on the image only.
/// </summary>
public sealed record Augmentation(double MaxZoom = 1.4, bool Flip = true, double Brightness = 0.2, double Contrast = 0.2, double ChannelGain = 0.08)
{
    public static Augmentation None { get; } = new(1.0, false, 0, 0, 0);

    public Sample Apply(Sample s, Random rng)
    {
        int w = s.Width, h = s.Height;
        var zoom = MaxZoom > 1 ? 1 + rng.NextDouble() * (MaxZoom - 1) : 1.0;
        var flip = Flip && rng.Next(2) == 1;
        // Crop window in source pixels.
        var cw = w / zoom; var ch = h / zoom;
        var x0 = rng.NextDouble() * (w - cw); var y0 = rng.NextDouble() * (h - ch);
        var img = new byte[w * h * 3];
        var depth = new float[w * h];
        var labels = new byte[w * h];
        double b = 1 + (rng.NextDouble() * 2 - 1) * Brightness;
        double c = 1 + (rng.NextDouble() * 2 - 1) * Contrast;
        var gain = new double[3];
        for (var k = 0; k < 3; k++) gain[k] = b * (1 + (rng.NextDouble() * 2 - 1) * ChannelGain);
        var invZoom = (float)(1 / zoom);
        for (var y = 0; y < h; y++)
        {
            var sy = Math.Min(h - 1, (int)(y0 + (y + 0.5) / zoom));
            for (var x = 0; x < w; x++)
            {
                var dx = flip ? w - 1 - x : x;
                var sx = Math.Min(w - 1, (int)(x0 + (dx + 0.5) / zoom));
                var si = sy * w + sx;
                var di = y * w + x;
                labels[di] = s.Labels[si];
                depth[di] = s.Depth[si] * invZoom;
                for (var k = 0; k < 3; k++)
                {
                    var v = ((s.Image[si * 3 + k] - 128.0) * c + 128.0) * gain[k];
                    img[di * 3 + k] = (byte)Math.Clamp(v, 0, 255);
                }
            }
        }
        return new Sample(img, depth, labels, w, h);
    }
}
