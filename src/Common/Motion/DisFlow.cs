using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    private float[] _px = [], _py = [], _warped = [], _rowX = [], _rowY = [];

    /// <summary>Added to the Hessian's diagonal per patch pixel (squared grey levels a pixel): where the texture is weaker
    /// than about 8 grey levels a pixel (sensor noise, a flat wall) the update is damped, so the patch keeps the coarser
    /// level's smooth estimate instead of following the noise. Chosen with bench/smoothing.sh on the synthetic walks
    /// (4, 16, 64: 64 gave the most forward-backward agreement and the least flicker along the flow).</summary>
    public const float Damping = 64f;

    public int Patch => patch;
    public int FinestLevel => finestLevel;

    /// <summary>
    /// The flow from <paramref name="reference"/> into <paramref name="target"/> at the size of pyramid level
    /// <paramref name="outputLevel"/> (0: full size; at most <see cref="FinestLevel"/>, where it is computed), written
    /// into <paramref name="flowX"/> and <paramref name="flowY"/> in that level's pixels.
    /// </summary>
    public void Compute(GrayPyramid reference, GrayPyramid target, Span<float> flowX, Span<float> flowY, int outputLevel = 0)
    {
        var levels = Math.Min(reference.Levels, target.Levels);
        var finest = Math.Min(finestLevel, levels - 1);
        if (outputLevel < 0 || outputLevel > finest)
            throw new ArgumentOutOfRangeException(nameof(outputLevel),
                $"the flow is computed at level {finest} and can be given at levels 0 to {finest}");
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
        Scale(reference.Width(finest), reference.Height(finest), reference.Width(outputLevel), reference.Height(outputLevel),
            finest - outputLevel, flowX, flowY);
    }

    /// <summary>One level: patch grid, inverse search per patch, densification into _ux/_uy.</summary>
    private void Search(GrayPyramid reference, GrayPyramid target, int l, int w, int h)
    {
        float[] i0 = reference.Image(l), gx = reference.GradientX(l), gy = reference.GradientY(l), i1 = target.Image(l);
        int nx = Positions(w, ref _px), ny = Positions(h, ref _py);
        var n = w * h;
        Array.Clear(_vx, 0, n); Array.Clear(_vy, 0, n); Array.Clear(_wsum, 0, n);
        if (patch == 8 && Vector256.IsHardwareAccelerated) SearchRows8(i0, gx, gy, i1, w, h, nx, ny);
        else SearchScalar(i0, gx, gy, i1, w, h, nx, ny);
        Normalise(n);
    }

    /// <summary>The densified flow: each pixel's weighted sum over the weights (pixels no patch covered keep the coarser
    /// estimate).</summary>
    private unsafe void Normalise(int n)
    {
        var k = 0;
        fixed (float* ux = _ux, uy = _uy, vx = _vx, vy = _vy, ws = _wsum)
        {
            if (Vector256.IsHardwareAccelerated)
                for (; k <= n - 8; k += 8)
                {
                    var sum = Vector256.Load(ws + k);
                    var covered = Vector256.GreaterThan(sum, Vector256<float>.Zero);
                    var safe = Vector256.ConditionalSelect(covered, sum, Vector256<float>.One);
                    Vector256.Store(Vector256.ConditionalSelect(covered, Vector256.Load(vx + k) / safe, Vector256.Load(ux + k)), ux + k);
                    Vector256.Store(Vector256.ConditionalSelect(covered, Vector256.Load(vy + k) / safe, Vector256.Load(uy + k)), uy + k);
                }
            for (; k < n; k++)
                if (ws[k] > 0) { ux[k] = vx[k] / ws[k]; uy[k] = vy[k] / ws[k]; }
        }
    }

    /// <summary>The search with 8-pixel patches, one patch row to a 256-bit vector: the same arithmetic as
    /// <see cref="SearchScalar"/>, summed in another order.</summary>
    private unsafe void SearchRows8(float[] i0, float[] gx, float[] gy, float[] i1, int w, int h, int nx, int ny)
    {
        const int p = 8;
        var tx = stackalloc Vector256<float>[p];
        var ty = stackalloc Vector256<float>[p];
        var tt = stackalloc Vector256<float>[p];
        var warped = stackalloc Vector256<float>[p];
        fixed (float* g0 = i0, gxr = gx, gyr = gy, g1 = i1, vx = _vx, vy = _vy, ws = _wsum)
        {
            for (var j = 0; j < ny; j++)
            {
                var y0 = (int)_py[j];
                for (var i = 0; i < nx; i++)
                {
                    var x0 = (int)_px[i];
                    // The template: the reference patch, its gradients centred (mean normalisation), and its Hessian.
                    Vector256<float> sgx = default, sgy = default, st = default;
                    for (var yy = 0; yy < p; yy++)
                    {
                        var o = (y0 + yy) * w + x0;
                        tx[yy] = Vector256.Load(gxr + o); ty[yy] = Vector256.Load(gyr + o); tt[yy] = Vector256.Load(g0 + o);
                        sgx += tx[yy]; sgy += ty[yy]; st += tt[yy];
                    }
                    var mgx = Vector256.Create(Vector256.Sum(sgx) / (p * p));
                    var mgy = Vector256.Create(Vector256.Sum(sgy) / (p * p));
                    var mt = Vector256.Sum(st) / (p * p);
                    Vector256<float> vxx = default, vxy = default, vyy = default;
                    for (var yy = 0; yy < p; yy++)
                    {
                        tx[yy] -= mgx; ty[yy] -= mgy;
                        vxx += tx[yy] * tx[yy]; vxy += tx[yy] * ty[yy]; vyy += ty[yy] * ty[yy];
                    }
                    float hxx = Vector256.Sum(vxx) + Damping * p * p, hxy = Vector256.Sum(vxy), hyy = Vector256.Sum(vyy) + Damping * p * p;
                    var det = hxx * hyy - hxy * hxy;
                    var c = (y0 + p / 2) * w + x0 + p / 2;
                    float ux0 = _ux[c], uy0 = _uy[c], ux = ux0, uy = uy0;
                    if (det > 1e-6f)
                    {
                        for (var it = 0; it < iterations; it++)
                        {
                            Warp8(g1, w, h, x0, y0, ux, uy, warped);
                            Vector256<float> vbx = default, vby = default;
                            for (var yy = 0; yy < p; yy++)
                            {
                                var r = warped[yy] - tt[yy];
                                vbx = Vector256.FusedMultiplyAdd(tx[yy], r, vbx); vby = Vector256.FusedMultiplyAdd(ty[yy], r, vby);
                            }
                            // Centred gradients sum to zero, so the mean residual drops out of b.
                            float bx = Vector256.Sum(vbx), by = Vector256.Sum(vby);
                            var dx = (hyy * bx - hxy * by) / det;
                            var dy = (hxx * by - hxy * bx) / det;
                            ux -= dx; uy -= dy;
                            if (dx * dx + dy * dy < 1e-4f) break;
                        }
                        // A patch that ran away (textureless, occluded) keeps the coarser estimate.
                        if ((ux - ux0) * (ux - ux0) + (uy - uy0) * (uy - uy0) > p * p) { ux = ux0; uy = uy0; }
                    }
                    // Densification: weight 1 / max(1, |error|), the patch's mean shift in brightness taken out.
                    Warp8(g1, w, h, x0, y0, ux, uy, warped);
                    Vector256<float> sum = default;
                    for (var yy = 0; yy < p; yy++) sum += warped[yy];
                    var shift = Vector256.Create(Vector256.Sum(sum) / (p * p) - mt);
                    Vector256<float> one = Vector256<float>.One, vux = Vector256.Create(ux), vuy = Vector256.Create(uy);
                    for (var yy = 0; yy < p; yy++)
                    {
                        var o = (y0 + yy) * w + x0;
                        var weight = one / Vector256.Max(one, Vector256.Abs(warped[yy] - shift - Vector256.Load(g0 + o)));
                        Vector256.Store(Vector256.Load(vx + o) + weight * vux, vx + o);
                        Vector256.Store(Vector256.Load(vy + o) + weight * vuy, vy + o);
                        Vector256.Store(Vector256.Load(ws + o) + weight, ws + o);
                    }
                }
            }
        }
    }

    /// <summary>The 8x8 patch at (x0, y0) moved by (ux, uy), row by row: one set of bilinear weights for the patch inside
    /// the image, each pixel clamped at the border.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Warp8(float* img, int w, int h, int x0, int y0, float ux, float uy, Vector256<float>* rows)
    {
        float fx = x0 + ux, fy = y0 + uy;
        int ix = (int)MathF.Floor(fx), iy = (int)MathF.Floor(fy);
        if (ix < 0 || iy < 0 || ix + 8 >= w || iy + 8 >= h)
        {
            Warp8Border(img, w, h, fx, fy, rows);
            return;
        }
        float ax = fx - ix, ay = fy - iy;
        Vector256<float> w00 = Vector256.Create((1 - ax) * (1 - ay)), w10 = Vector256.Create(ax * (1 - ay));
        Vector256<float> w01 = Vector256.Create((1 - ax) * ay), w11 = Vector256.Create(ax * ay);
        var top = img + iy * w + ix;
        Vector256<float> a = Vector256.Load(top), b = Vector256.Load(top + 1);
        for (var yy = 0; yy < 8; yy++)
        {
            top += w;
            Vector256<float> e = Vector256.Load(top), f = Vector256.Load(top + 1);
            rows[yy] = Vector256.FusedMultiplyAdd(w11, f, Vector256.FusedMultiplyAdd(w01, e, Vector256.FusedMultiplyAdd(w10, b, w00 * a)));
            a = e; b = f;
        }
    }

    /// <summary><see cref="Warp8"/> where the patch reaches the border: the clamped bilinear columns and weights are
    /// worked out once for the patch, and each row gathers its eight pixels from them (AVX2), else reads them one by one.
    /// Both give the same numbers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void Warp8Border(float* img, int w, int h, float fx, float fy, Vector256<float>* rows)
    {
        var c0 = stackalloc int[8];
        var c1 = stackalloc int[8];
        var cw = stackalloc float[8];
        for (var k = 0; k < 8; k++)
        {
            var x = Math.Clamp(fx + k, 0, w - 1);
            c0[k] = (int)x; c1[k] = Math.Min(c0[k] + 1, w - 1); cw[k] = x - c0[k];
        }
        var row = (float*)rows;
        if (Avx2.IsSupported)
        {
            Vector256<int> i0 = Vector256.Load(c0), i1 = Vector256.Load(c1);
            var wx = Vector256.Load(cw);
            for (var yy = 0; yy < 8; yy++)
            {
                var y = Math.Clamp(fy + yy, 0, h - 1);
                var y0 = (int)y;
                var ay = Vector256.Create(y - y0);
                float* r0 = img + y0 * w, r1 = img + Math.Min(y0 + 1, h - 1) * w;
                Vector256<float> a = Avx2.GatherVector256(r0, i0, 4), b = Avx2.GatherVector256(r0, i1, 4);
                Vector256<float> e = Avx2.GatherVector256(r1, i0, 4), f = Avx2.GatherVector256(r1, i1, 4);
                var top = a + wx * (b - a);
                var bottom = e + wx * (f - e);
                rows[yy] = top + ay * (bottom - top);
            }
            return;
        }
        for (var yy = 0; yy < 8; yy++)
        {
            var y = Math.Clamp(fy + yy, 0, h - 1);
            var y0 = (int)y;
            float ay = y - y0;
            float* r0 = img + y0 * w, r1 = img + Math.Min(y0 + 1, h - 1) * w;
            for (var k = 0; k < 8; k++)
            {
                var top = r0[c0[k]] + cw[k] * (r0[c1[k]] - r0[c0[k]]);
                var bottom = r1[c0[k]] + cw[k] * (r1[c1[k]] - r1[c0[k]]);
                row[yy * 8 + k] = top + ay * (bottom - top);
            }
        }
    }

    private void SearchScalar(float[] i0, float[] gx, float[] gy, float[] i1, int w, int h, int nx, int ny)
    {
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

    /// <summary>Level l+1's flow to level l: bilinear, doubled. A fine pixel's centre lies a quarter of a coarse pixel
    /// from its nearest coarse centre, so the weights are 3/4 and 1/4 on each axis (the border repeated).</summary>
    private void Upsample(int cw, int ch, int w, int h)
    {
        var n = cw * ch;
        _ux.AsSpan(0, n).CopyTo(_vx); _uy.AsSpan(0, n).CopyTo(_vy);
        if (_rowX.Length < cw) { _rowX = new float[cw]; _rowY = new float[cw]; }
        for (var y = 0; y < h; y++)
        {
            var m = Math.Min(y >> 1, ch - 1);
            var other = Math.Clamp((y & 1) == 0 ? m - 1 : m + 1, 0, ch - 1);
            int r0 = m * cw, r1 = other * cw;
            for (var x = 0; x < cw; x++)
            {
                _rowX[x] = 1.5f * _vx[r0 + x] + 0.5f * _vx[r1 + x];
                _rowY[x] = 1.5f * _vy[r0 + x] + 0.5f * _vy[r1 + x];
            }
            var o = y * w;
            for (var x = 0; x < w; x++)
            {
                var c = Math.Min(x >> 1, cw - 1);
                var d = Math.Clamp((x & 1) == 0 ? c - 1 : c + 1, 0, cw - 1);
                _ux[o + x] = 0.75f * _rowX[c] + 0.25f * _rowX[d];
                _uy[o + x] = 0.75f * _rowY[c] + 0.25f * _rowY[d];
            }
        }
    }

    /// <summary>The finest level's flow to a level <paramref name="octaves"/> finer: bilinear, scaled.</summary>
    private void Scale(int fw, int fh, int w, int h, int octaves, Span<float> flowX, Span<float> flowY)
    {
        if (flowX.Length < w * h || flowY.Length < w * h) throw new ArgumentException("the flow buffers are smaller than the image");
        if (octaves == 0)
        {
            _ux.AsSpan(0, w * h).CopyTo(flowX); _uy.AsSpan(0, w * h).CopyTo(flowY);
            return;
        }
        var scale = 1 << octaves;
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                float sx = (x + 0.5f) / scale - 0.5f, sy = (y + 0.5f) / scale - 0.5f;
                flowX[y * w + x] = scale * Sample(_ux, fw, fh, sx, sy);
                flowY[y * w + x] = scale * Sample(_uy, fw, fh, sx, sy);
            }
    }

    /// <summary>Bilinear lookup with the border repeated.</summary>
    public static unsafe float Sample(float[] img, int w, int h, float x, float y)
    {
        fixed (float* p = img) return Sample(p, w, h, x, y);
    }

    /// <summary>Bilinear lookup with the border repeated.</summary>
    public static unsafe float Sample(float* img, int w, int h, float x, float y)
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
