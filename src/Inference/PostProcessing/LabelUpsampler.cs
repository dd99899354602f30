using OpenCvSharp;

namespace RealtimeMtl.Inference.PostProcessing;

/// <summary>
/// Brings the model's labels to frame size along the model's confidence instead of nearest-neighbour, so class edges
/// at 720p are not blocky: each output pixel takes the class with the largest bilinear weight x confidence among its
/// four source pixels (a bilinear upsampling of the per-class scores, evaluated only where classes meet). Where the
/// four agree, which is most of the image, the class is copied at once.
/// </summary>
public static class LabelUpsampler
{
    // Per output column: the two source columns and the weight of the second (rebuilt when the sizes change).
    [ThreadStatic] private static (int Src, int Dst, int[] A, int[] B, float[] W)? _columns;

    /// <summary>Upsamples CV_8UC1 <paramref name="labels"/> (with CV_32FC1 <paramref name="confidence"/>, or equal confidence when null) into
    /// <paramref name="dst"/> of <paramref name="size"/>.</summary>
    public static unsafe void Upsample(Mat labels, Mat? confidence, Size size, Mat dst)
    {
        dst.Create(size, MatType.CV_8UC1);
        int sw = labels.Width, sh = labels.Height, dw = size.Width, dh = size.Height;
        if (sw == dw && sh == dh) { labels.CopyTo(dst); return; }
        double sx = (double)sw / dw, sy = (double)sh / dh;
        if (_columns is not { } cols || cols.Src != sw || cols.Dst != dw)
        {
            var a = new int[dw]; var b = new int[dw]; var w = new float[dw];
            for (var x = 0; x < dw; x++)
            {
                var fx = (x + 0.5) * sx - 0.5;
                var x0 = (int)Math.Floor(fx);
                w[x] = (float)(fx - x0);
                a[x] = Math.Clamp(x0, 0, sw - 1); b[x] = Math.Clamp(x0 + 1, 0, sw - 1);
            }
            _columns = cols = (sw, dw, a, b, w);
        }
        var colA = cols.A; var colB = cols.B; var colW = cols.W;
        var l = (byte*)labels.Data;
        var c = confidence is null ? null : (float*)confidence.Data;
        long lstep = labels.Step(), cstep = confidence?.Step() / sizeof(float) ?? 0;
        for (var y = 0; y < dh; y++)
        {
            var fy = (y + 0.5) * sy - 0.5;
            var y0 = (int)Math.Floor(fy);
            var wy = (float)(fy - y0);
            int ya = Math.Clamp(y0, 0, sh - 1), yb = Math.Clamp(y0 + 1, 0, sh - 1);
            var la = l + ya * lstep; var lb = l + yb * lstep;
            var ca = c is null ? null : c + ya * cstep; var cb = c is null ? null : c + yb * cstep;
            var row = (byte*)dst.Ptr(y);
            for (var x = 0; x < dw; x++)
            {
                int xa = colA[x], xb = colB[x];
                byte l00 = la[xa], l01 = la[xb], l10 = lb[xa], l11 = lb[xb];
                if (l00 == l01 && l00 == l10 && l00 == l11) { row[x] = l00; continue; }
                var wx = colW[x];
                // Weights of the four source pixels, each times its confidence.
                float w00 = (1 - wx) * (1 - wy), w01 = wx * (1 - wy), w10 = (1 - wx) * wy, w11 = wx * wy;
                if (c is not null) { w00 *= ca![xa]; w01 *= ca[xb]; w10 *= cb![xa]; w11 *= cb[xb]; }
                // Sum per distinct class among the four, take the largest.
                var best = l00;
                var bestScore = w00 + (l01 == l00 ? w01 : 0) + (l10 == l00 ? w10 : 0) + (l11 == l00 ? w11 : 0);
                if (l01 != l00)
                {
                    var s = w01 + (l10 == l01 ? w10 : 0) + (l11 == l01 ? w11 : 0);
                    if (s > bestScore) { best = l01; bestScore = s; }
                }
                if (l10 != l00 && l10 != l01)
                {
                    var s = w10 + (l11 == l10 ? w11 : 0);
                    if (s > bestScore) { best = l10; bestScore = s; }
                }
                if (l11 != l00 && l11 != l01 && l11 != l10 && w11 > bestScore) best = l11;
                row[x] = best;
            }
        }
    }
}
