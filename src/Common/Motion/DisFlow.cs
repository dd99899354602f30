namespace RealtimeMtl.Common.Motion;

/// <summary>
/// Dense optical flow by Dense Inverse Search (Kroeger, Timofte, Dai and Van Gool, "Fast Optical Flow using Dense
/// Inverse Search", ECCV 2016), the method of OpenCV's DISOpticalFlow, which OpenCvSharp's native library does not
/// export. Coarse to fine over a <see cref="GrayPyramid"/>: on each level, square patches on a grid (stride smaller
/// than the patch, so they overlap) are aligned by inverse-compositional Gauss-Newton on mean-normalised intensities
/// (the Hessian of the template patch is computed once per patch); then every pixel takes the mean of the flows of
/// the patches that cover it, each weighted by 1 / max(1, |photometric error|) (the paper's densification). The
/// variational refinement is left out, as in OpenCV's ultrafast preset. The finest level used is
/// <see cref="FinestLevel"/> (1: half size); the flow is then scaled up to full size.
/// The flow is backward in the sense of a lookup: <c>reference(x) ≈ target(x + flow(x))</c>.
/// </summary>
public sealed class DisFlow(int patch = 8, int stride = 4, int iterations = 12, int finestLevel = 1)
{
    private float[] _ux = [], _uy = [], _vx = [], _vy = [], _wsum = [];
    private float[] _tx = [], _ty = [], _tt = [];
    private float[] _px = [], _py = [], _warped = [];

    /// <summary>Added to the Hessian's diagonal per patch pixel (squared grey levels a pixel): where the texture is weaker
    /// than about 8 grey levels a pixel (sensor noise, a flat wall) the update is damped, so the patch keeps the coarser
    /// level's smooth estimate instead of following the noise. Chosen with bench/smoothing.sh on the synthetic walks
    /// (4, 16, 64: 64 gave the most forward-backward agreement and the least flicker along the flow).</summary>
    public const float Damping = 64f;

    public int Patch => patch;
    public int FinestLevel => finestLevel;

    /// <summary>
    /// The flow from <paramref name="reference"/> into <paramref name="target"/> at level 0's size, written into
    /// <paramref name="flowX"/> and <paramref name="flowY"/> (pixels).
    /// </summary>
    public void Compute(GrayPyramid reference, GrayPyramid target, Span<float> flowX, Span<float> flowY)
    {
        var levels = Math.Min(reference.Levels, target.Levels);
        var finest = Math.Min(finestLevel, levels - 1);
        int maxN = reference.Width(finest) * reference.Height(finest);
        if (_ux.Length < maxN)
        {
            _ux = new float[maxN]; _uy = new float[maxN]; _vx = new float[maxN]; _vy = new float[maxN]; _wsum = new float[maxN];
        }
        if (_tx.Length < patch * patch)
        {
            _tx = new float[patch * patch]; _ty = new float[patch * patch]; _tt = new float[patch * patch]; _warped = new float[patch * patch];
        }
        int cw = reference.Width(levels - 1), ch = reference.Height(levels - 1);
        Array.Clear(_ux, 0, cw * ch); Array.Clear(_uy, 0, cw * ch);
        for (var l = levels - 1; l >= finest; l--)
        {
            int w = reference.Width(l), h = reference.Height(l);
            if (l < levels - 1) Upsample(reference.Width(l + 1), reference.Height(l + 1), w, h);
            if (w < patch || h < patch) continue;
            Search(reference, target, l, w, h);
        }
        ScaleToFull(reference.Width(finest), reference.Height(finest), reference.Width(0), reference.Height(0), finest, flowX, flowY);
    }

    /// <summary>One level: patch grid, inverse search per patch, densification into _ux/_uy.</summary>
    private void Search(GrayPyramid reference, GrayPyramid target, int l, int w, int h)
    {
        float[] i0 = reference.Image(l), gx = reference.GradientX(l), gy = reference.GradientY(l), i1 = target.Image(l);
        int nx = Positions(w, ref _px), ny = Positions(h, ref _py);
        var n = w * h;
        Array.Clear(_vx, 0, n); Array.Clear(_vy, 0, n); Array.Clear(_wsum, 0, n);
        var pp = patch * patch;
        for (var j = 0; j < ny; j++)
        {
            var y0 = (int)_py[j];
            for (var i = 0; i < nx; i++)
            {
                var x0 = (int)_px[i];
                // The template: the reference patch, its gradients centred (mean normalisation), and its Hessian.
                float mgx = 0, mgy = 0, mt = 0;
                for (int k = 0, yy = 0; yy < patch; yy++)
                    for (var xx = 0; xx < patch; xx++, k++)
                    {
                        var o = (y0 + yy) * w + x0 + xx;
                        _tx[k] = gx[o]; _ty[k] = gy[o]; _tt[k] = i0[o];
                        mgx += gx[o]; mgy += gy[o]; mt += i0[o];
                    }
                mgx /= pp; mgy /= pp; mt /= pp;
                float hxx = 0, hxy = 0, hyy = 0;
                for (var k = 0; k < pp; k++)
                {
                    _tx[k] -= mgx; _ty[k] -= mgy;
                    hxx += _tx[k] * _tx[k]; hxy += _tx[k] * _ty[k]; hyy += _ty[k] * _ty[k];
                }
                hxx += Damping * pp; hyy += Damping * pp;
                var det = hxx * hyy - hxy * hxy;
                var c = (y0 + patch / 2) * w + x0 + patch / 2;
                float ux0 = _ux[c], uy0 = _uy[c], ux = ux0, uy = uy0;
                if (det > 1e-6f)
                {
                    for (var it = 0; it < iterations; it++)
                    {
                        // Residual of the warped target against the template, mean-normalised.
                        float bx = 0, by = 0;
                        WarpPatch(i1, w, h, x0, y0, ux, uy);
                        for (var k = 0; k < pp; k++)
                        {
                            var r = _warped[k] - _tt[k];
                            bx += _tx[k] * r; by += _ty[k] * r;
                        }
                        // Centred gradients sum to zero, so the mean residual drops out of b.
                        var dx = (hyy * bx - hxy * by) / det;
                        var dy = (hxx * by - hxy * bx) / det;
                        ux -= dx; uy -= dy;
                        if (dx * dx + dy * dy < 1e-4f) break;
                    }
                    // A patch that ran away (textureless, occluded) keeps the coarser estimate.
                    if ((ux - ux0) * (ux - ux0) + (uy - uy0) * (uy - uy0) > patch * patch) { ux = ux0; uy = uy0; }
                }
                Densify(i0, i1, w, h, x0, y0, ux, uy, mt);
            }
        }
        for (var k = 0; k < n; k++)
        {
            if (_wsum[k] > 0) { _ux[k] = _vx[k] / _wsum[k]; _uy[k] = _vy[k] / _wsum[k]; }
        }
    }

    private void Densify(float[] i0, float[] i1, int w, int h, int x0, int y0, float ux, float uy, float templateMean)
    {
        // The patch's mean shift in brightness is not an error of its flow (mean normalisation, as in the search).
        WarpPatch(i1, w, h, x0, y0, ux, uy);
        float shift = 0;
        for (var k = 0; k < patch * patch; k++) shift += _warped[k];
        shift = shift / (patch * patch) - templateMean;
        for (int k = 0, yy = 0; yy < patch; yy++)
            for (var xx = 0; xx < patch; xx++, k++)
            {
                var o = (y0 + yy) * w + x0 + xx;
                var err = Math.Abs(_warped[k] - shift - i0[o]);
                var weight = 1f / Math.Max(1f, err);
                _vx[o] += weight * ux; _vy[o] += weight * uy; _wsum[o] += weight;
            }
    }

    /// <summary>
    /// The target under the patch at (x0, y0) moved by (ux, uy), into _warped. The whole patch shares one fractional
    /// offset, so inside the image the four bilinear weights are computed once; at the border each pixel is clamped.
    /// </summary>
    private void WarpPatch(float[] img, int w, int h, int x0, int y0, float ux, float uy)
    {
        float fx = x0 + ux, fy = y0 + uy;
        int ix = (int)MathF.Floor(fx), iy = (int)MathF.Floor(fy);
        if (ix < 0 || iy < 0 || ix + patch >= w || iy + patch >= h)
        {
            for (int k = 0, yy = 0; yy < patch; yy++)
                for (var xx = 0; xx < patch; xx++, k++) _warped[k] = Sample(img, w, h, fx + xx, fy + yy);
            return;
        }
        float ax = fx - ix, ay = fy - iy;
        float w00 = (1 - ax) * (1 - ay), w10 = ax * (1 - ay), w01 = (1 - ax) * ay, w11 = ax * ay;
        for (int k = 0, yy = 0; yy < patch; yy++)
        {
            var o = (iy + yy) * w + ix;
            for (var xx = 0; xx < patch; xx++, k++, o++)
                _warped[k] = w00 * img[o] + w10 * img[o + 1] + w01 * img[o + w] + w11 * img[o + w + 1];
        }
    }

    /// <summary>Patch corners along one axis: every stride, and the last one flush with the edge.</summary>
    private int Positions(int size, ref float[] at)
    {
        var count = (size - patch) / stride + 1;
        var flush = (size - patch) % stride != 0;
        if (flush) count++;
        if (at.Length < count) at = new float[count];
        for (var i = 0; i < count; i++) at[i] = Math.Min(i * stride, size - patch);
        return count;
    }

    /// <summary>Level l+1's flow to level l: bilinear, doubled.</summary>
    private void Upsample(int cw, int ch, int w, int h)
    {
        var n = cw * ch;
        _ux.AsSpan(0, n).CopyTo(_vx); _uy.AsSpan(0, n).CopyTo(_vy);
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                float sx = (x + 0.5f) / 2 - 0.5f, sy = (y + 0.5f) / 2 - 0.5f;
                _ux[y * w + x] = 2 * Sample(_vx, cw, ch, sx, sy);
                _uy[y * w + x] = 2 * Sample(_vy, cw, ch, sx, sy);
            }
    }

    private void ScaleToFull(int fw, int fh, int w, int h, int level, Span<float> flowX, Span<float> flowY)
    {
        if (flowX.Length < w * h || flowY.Length < w * h) throw new ArgumentException("the flow buffers are smaller than the image");
        var scale = 1 << level;
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                float sx = (x + 0.5f) / scale - 0.5f, sy = (y + 0.5f) / scale - 0.5f;
                flowX[y * w + x] = scale * Sample(_ux, fw, fh, sx, sy);
                flowY[y * w + x] = scale * Sample(_uy, fw, fh, sx, sy);
            }
    }

    /// <summary>Bilinear lookup with the border repeated.</summary>
    public static float Sample(float[] img, int w, int h, float x, float y)
    {
        if (x < 0) x = 0; else if (x > w - 1) x = w - 1;
        if (y < 0) y = 0; else if (y > h - 1) y = h - 1;
        int x0 = (int)x, y0 = (int)y;
        int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
        float ax = x - x0, ay = y - y0;
        int r0 = y0 * w, r1 = y1 * w;
        var top = img[r0 + x0] + ax * (img[r0 + x1] - img[r0 + x0]);
        var bottom = img[r1 + x0] + ax * (img[r1 + x1] - img[r1 + x0]);
        return top + ay * (bottom - top);
    }
}
