namespace RealtimeMtl.Common.Motion;

/// <summary>
/// Where each pixel of the current frame was in the previous one, and whether that can be trusted: the backward flow
/// (<see cref="DisFlow"/>, current into previous), checked against the forward flow (previous into current) by the
/// forward-backward test of Sundaram, Brox and Keutzer (ECCV 2010: |u + v|^2 &lt; 0.01 (|u|^2 + |v|^2) + 0.5), and by
/// the photometric error of the match, averaged over a 5x5 window so that a pixel of a new surface that happens to match
/// one grey level is not trusted. Disocclusions, new objects and cuts fail one test or the other.
/// The field is estimated at pyramid level <paramref name="level"/>: 0 is full size; at the flow's own finest level the
/// upscaling is skipped and 4^level times fewer pixels are checked, with the forward-backward tolerance scaled to the
/// same full-size pixels (the photometric window is then 3x3 of that level's pixels).
/// </summary>
public sealed class MotionField(
    DisFlow? flow = null, float photometricTolerance = MotionField.DefaultPhotometricTolerance, int level = 0, float slack = 0.5f)
{
    /// <summary>Grey levels (0-255) a match may differ by on average around a pixel: above sensor noise and codec
    /// ringing, below most changes of surface.</summary>
    public const float DefaultPhotometricTolerance = 24f;

    private readonly DisFlow _flow = flow ?? new DisFlow();
    private float[] _vx = [], _vy = [], _err = [], _rows = [];

    /// <summary>The pyramid level the field is at: its pixels are 2^Level input pixels wide.</summary>
    public int Level => level;

    public int Width { get; private set; }
    public int Height { get; private set; }

    /// <summary>Backward flow: the current pixel i was at (x + <see cref="FlowX"/>[i], y + <see cref="FlowY"/>[i]).</summary>
    public float[] FlowX { get; private set; } = [];
    public float[] FlowY { get; private set; } = [];

    /// <summary>1 where the match passed both tests and lies inside the previous frame.</summary>
    public byte[] Trusted { get; private set; } = [];

    /// <summary>The share of the frame's pixels that were trusted: near 0 on a cut or a jump of the camera.</summary>
    public double TrustedShare { get; private set; }

    public void Estimate(GrayPyramid current, GrayPyramid previous)
    {
        int w = current.Width(level), h = current.Height(level), n = w * h;
        if (previous.Width(level) != w || previous.Height(level) != h) throw new ArgumentException("the two frames differ in size");
        if (FlowX.Length != n)
        {
            FlowX = new float[n]; FlowY = new float[n]; Trusted = new byte[n]; _vx = new float[n]; _vy = new float[n];
            _err = new float[n]; _rows = new float[n];
        }
        Width = w; Height = h;
        _flow.Compute(current, previous, FlowX, FlowY, level);
        _flow.Compute(previous, current, _vx, _vy, level);
        float[] cur = current.Image(level), prev = previous.Image(level);
        // Sundaram's 0.5 px^2 is in full-size pixels: a level's pixel is 2^level of them.
        Check(cur, prev, w, h, slack / (1 << (2 * level)));
        BoxMean(_err, _rows, w, h, level == 0 ? 2 : 1);
        var trusted = 0;
        for (var i = 0; i < n; i++)
        {
            if (Trusted[i] != 0 && _err[i] >= photometricTolerance) Trusted[i] = 0;
            trusted += Trusted[i];
        }
        TrustedShare = (double)trusted / n;
    }

    /// <summary>The share of the frame that <see cref="ExtendWithCameraMotion"/> added to the trusted matches.</summary>
    public double ExtendedShare { get; private set; }

    /// <summary>
    /// Where the camera itself moved (a turn, a pan, a zoom), the flow of the whole frame is nearly one smooth motion, and
    /// DIS often fails on what it cannot lock onto (weak texture under noise, repeated patterns) although the camera's
    /// motion carries those pixels too. Fits that motion (a quadratic in x and y, which holds a rotation's perspective to
    /// second order) to the trusted matches (least squares, then again on those within
    /// <paramref name="inlierPixels"/> of the first fit, in the field's pixels); when at least
    /// <paramref name="minInlierShare"/> of them follow it, each untrusted pixel whose match under the camera's motion lies
    /// inside the previous frame and whose photometric error under it (the mean over the same window as the test of DIS's
    /// matches) stays under <paramref name="tolerance"/> takes that motion and is trusted. The test is the only one such a
    /// pixel passes, so its tolerance is tighter than DIS's: where the scene changed (a new object) it must fail.
    /// <see cref="TrustedShare"/> keeps the share DIS alone matched (a cut is judged by it).
    /// </summary>
    public unsafe void ExtendWithCameraMotion(GrayPyramid current, GrayPyramid previous, float minInlierShare, float inlierPixels,
        float tolerance)
    {
        ExtendedShare = 0;
        int w = Width, h = Height, n = w * h;
        var ax = stackalloc double[Terms];
        var ay = stackalloc double[Terms];
        // Each column's centred x, worked out once for the two fits and the pass below.
        var columns = stackalloc double[w];
        for (var x = 0; x < w; x++) columns[x] = Centred(x, w, w, h);
        if (!FitCameraMotion(w, h, columns, float.PositiveInfinity, ax, ay, out var trusted)) return;
        if (!FitCameraMotion(w, h, columns, inlierPixels, ax, ay, out var inliers)) return;
        if (inliers < minInlierShare * trusted) return;
        float[] cur = current.Image(level), prev = previous.Image(level);
        fixed (float* c = cur, p = prev, vx = _vx, vy = _vy, err = _err)
        {
            for (var y = 0; y < h; y++)
            {
                var cy = Centred(y, h, w, h);
                // The camera's motion along this row: a quadratic in x.
                double pu0 = ax[0] + ax[2] * cy + ax[5] * cy * cy, pu1 = ax[1] + ax[4] * cy, pu2 = ax[3];
                double pv0 = ay[0] + ay[2] * cy + ay[5] * cy * cy, pv1 = ay[1] + ay[4] * cy, pv2 = ay[3];
                for (var x = 0; x < w; x++)
                {
                    var i = y * w + x;
                    var cx = columns[x];
                    float gx = (float)(pu0 + cx * (pu1 + cx * pu2)), gy = (float)(pv0 + cx * (pv1 + cx * pv2));
                    vx[i] = gx; vy[i] = gy;
                    float px = x + gx, py = y + gy;
                    if (px < 0 || py < 0 || px > w - 1 || py > h - 1) { err[i] = OutsideError; continue; }
                    int x0 = (int)px, y0 = (int)py, x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
                    float fx = px - x0, fy = py - y0;
                    var top = p[y0 * w + x0] + fx * (p[y0 * w + x1] - p[y0 * w + x0]);
                    var bottom = p[y1 * w + x0] + fx * (p[y1 * w + x1] - p[y1 * w + x0]);
                    err[i] = Math.Abs(c[i] - (top + fy * (bottom - top)));
                }
            }
        }
        BoxMean(_err, _rows, w, h, level == 0 ? 2 : 1);
        var added = 0;
        for (var i = 0; i < n; i++)
        {
            if (Trusted[i] != 0 || !(_err[i] < tolerance)) continue;
            Trusted[i] = 1; FlowX[i] = _vx[i]; FlowY[i] = _vy[i];
            added++;
        }
        ExtendedShare = (double)added / n;
    }

    /// <summary>Least-squares quadratic flow (u = a . [1, x, y, x², xy, y²], v likewise: a camera's rotation, pan and zoom
    /// to second order, in the field's pixels, centred) over the trusted matches; with a finite <paramref name="within"/>,
    /// only over those the fit already in <paramref name="a"/>, <paramref name="b"/> explains to within that many pixels.
    /// False where too few matches (or a degenerate spread) leave it undetermined. The normal equations hold only the
    /// moments Σ xⁱ yʲ (i + j ≤ 4) and Σ u xⁱ yʲ, Σ v xⁱ yʲ (i + j ≤ 2); y is constant along a row, so each row sums powers of
    /// x alone (eleven sums a cell, in registers) and folds them in with its powers of y.</summary>
    private unsafe bool FitCameraMotion(int w, int h, double* columns, float within, double* a, double* b, out int count)
    {
        // moments[i * 5 + j] = Σ xⁱ yʲ; mu[i * 3 + j] = Σ u xⁱ yʲ, mv likewise.
        var moments = stackalloc double[25];
        var mu = stackalloc double[9];
        var mv = stackalloc double[9];
        new Span<double>(moments, 25).Clear(); new Span<double>(mu, 9).Clear(); new Span<double>(mv, 9).Clear();
        // One row's sums of powers of x, and its powers of y.
        double* sx = stackalloc double[5], ys = stackalloc double[5], ux = stackalloc double[3], vx = stackalloc double[3];
        count = 0;
        var limit = within * within;
        var finite = !float.IsPositiveInfinity(within);
        fixed (byte* trustedCells = Trusted)
        fixed (float* flowX = FlowX, flowY = FlowY)
        {
            for (var y = 0; y < h; y++)
            {
                var cy = Centred(y, h, w, h);
                // The fit along this row: u = pu0 + pu1 x + pu2 x², v likewise.
                double pu0 = a[0] + a[2] * cy + a[5] * cy * cy, pu1 = a[1] + a[4] * cy, pu2 = a[3];
                double pv0 = b[0] + b[2] * cy + b[5] * cy * cy, pv1 = b[1] + b[4] * cy, pv2 = b[3];
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, u0 = 0, u1 = 0, u2 = 0, v0 = 0, v1 = 0, v2 = 0;
                var row = trustedCells + y * w;
                for (var x = 0; x < w; x++)
                {
                    if (row[x] == 0) continue;
                    var cx = columns[x];
                    double u = flowX[y * w + x], v = flowY[y * w + x];
                    if (finite)
                    {
                        double du = u - (pu0 + cx * (pu1 + cx * pu2)), dv = v - (pv0 + cx * (pv1 + cx * pv2));
                        if (du * du + dv * dv > limit) continue;
                    }
                    var x2 = cx * cx;
                    s0 += 1; s1 += cx; s2 += x2; s3 += x2 * cx; s4 += x2 * x2;
                    u0 += u; u1 += u * cx; u2 += u * x2;
                    v0 += v; v1 += v * cx; v2 += v * x2;
                }
                if (s0 == 0) continue;
                count += (int)s0;
                double y2 = cy * cy;
                sx[0] = s0; sx[1] = s1; sx[2] = s2; sx[3] = s3; sx[4] = s4;
                ys[0] = 1; ys[1] = cy; ys[2] = y2; ys[3] = y2 * cy; ys[4] = y2 * y2;
                ux[0] = u0; ux[1] = u1; ux[2] = u2; vx[0] = v0; vx[1] = v1; vx[2] = v2;
                for (var i = 0; i <= 4; i++)
                    for (var j = 0; i + j <= 4; j++) moments[i * 5 + j] += sx[i] * ys[j];
                for (var i = 0; i <= 2; i++)
                    for (var j = 0; i + j <= 2; j++) { mu[i * 3 + j] += ux[i] * ys[j]; mv[i * 3 + j] += vx[i] * ys[j]; }
            }
        }
        if (count < 4 * Terms) return false;
        // The terms [1, x, y, x², xy, y²] as powers (i, j) of x and y.
        ReadOnlySpan<int> px = [0, 1, 0, 2, 1, 0], py = [0, 0, 1, 0, 1, 2];
        var m = stackalloc double[Terms * Terms];
        var ru = stackalloc double[Terms];
        var rv = stackalloc double[Terms];
        for (var r = 0; r < Terms; r++)
        {
            for (var c = 0; c < Terms; c++) m[r * Terms + c] = moments[(px[r] + px[c]) * 5 + py[r] + py[c]];
            ru[r] = mu[px[r] * 3 + py[r]]; rv[r] = mv[px[r] * 3 + py[r]];
        }
        return SolveSymmetric(new Span<double>(m, Terms * Terms), new Span<double>(ru, Terms), new Span<double>(rv, Terms),
            new Span<double>(a, Terms), new Span<double>(b, Terms));
    }

    private const int Terms = 6;

    /// <summary>The photometric error given to a match outside the previous frame: far above any tolerance, yet finite,
    /// so the running sums of the window mean stay numbers.</summary>
    private const float OutsideError = 1e4f;

    /// <summary>A coordinate of the field centred on it and scaled to about ±1 (the quadratic model's x or y).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static double Centred(int v, int size, int w, int h) => (v - (size - 1) / 2.0) * (2.0 / Math.Max(w, h));

    /// <summary>Solves m a = ru and m b = rv (m symmetric, Terms x Terms) by Gaussian elimination with partial pivoting;
    /// false where m is singular.</summary>
    private static bool SolveSymmetric(Span<double> m, Span<double> ru, Span<double> rv, Span<double> a, Span<double> b)
    {
        const int n = Terms;
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++) if (Math.Abs(m[r * n + col]) > Math.Abs(m[pivot * n + col])) pivot = r;
            if (Math.Abs(m[pivot * n + col]) < 1e-9) return false;
            if (pivot != col)
            {
                for (var c = 0; c < n; c++) (m[col * n + c], m[pivot * n + c]) = (m[pivot * n + c], m[col * n + c]);
                (ru[col], ru[pivot]) = (ru[pivot], ru[col]);
                (rv[col], rv[pivot]) = (rv[pivot], rv[col]);
            }
            for (var r = col + 1; r < n; r++)
            {
                var f = m[r * n + col] / m[col * n + col];
                for (var c = col; c < n; c++) m[r * n + c] -= f * m[col * n + c];
                ru[r] -= f * ru[col]; rv[r] -= f * rv[col];
            }
        }
        for (var r = n - 1; r >= 0; r--)
        {
            double su = ru[r], sv = rv[r];
            for (var c = r + 1; c < n; c++) { su -= m[r * n + c] * a[c]; sv -= m[r * n + c] * b[c]; }
            a[r] = su / m[r * n + r]; b[r] = sv / m[r * n + r];
        }
        return true;
    }

    /// <summary>Per pixel: the forward-backward test into <see cref="Trusted"/> and the photometric error into _err. The
    /// backward flow, the forward flow and the previous image are all read at the same point, so the bilinear weights are
    /// worked out once (the border repeated).</summary>
    private unsafe void Check(float[] current, float[] previousImage, int w, int h, float slack)
    {
        fixed (float* fx = FlowX, fy = FlowY, vxs = _vx, vys = _vy, cur = current, prev = previousImage, err = _err)
        fixed (byte* trusted = Trusted)
        {
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    var i = y * w + x;
                    float ux = fx[i], uy = fy[i], px = x + ux, py = y + uy;
                    var inside = px >= 0 && py >= 0 && px <= w - 1 && py <= h - 1;
                    float sx = Math.Clamp(px, 0, w - 1), sy = Math.Clamp(py, 0, h - 1);
                    int x0 = (int)sx, y0 = (int)sy, x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
                    float ax = sx - x0, ay = sy - y0;
                    int a = y0 * w + x0, b = y0 * w + x1, c = y1 * w + x0, d = y1 * w + x1;
                    float w00 = (1 - ax) * (1 - ay), w10 = ax * (1 - ay), w01 = (1 - ax) * ay, w11 = ax * ay;
                    var ok = false;
                    if (inside)
                    {
                        float vx = w00 * vxs[a] + w10 * vxs[b] + w01 * vxs[c] + w11 * vxs[d];
                        float vy = w00 * vys[a] + w10 * vys[b] + w01 * vys[c] + w11 * vys[d];
                        float ex = ux + vx, ey = uy + vy;
                        ok = ex * ex + ey * ey < 0.01f * (ux * ux + uy * uy + vx * vx + vy * vy) + slack;
                    }
                    trusted[i] = ok ? (byte)1 : (byte)0;
                    err[i] = Math.Abs(cur[i] - (w00 * prev[a] + w10 * prev[b] + w01 * prev[c] + w11 * prev[d]));
                }
        }
    }

    /// <summary>The mean over a (2r+1) square window, in place (rows, then columns, as running sums; the window shrinks
    /// at the edges).</summary>
    private static void BoxMean(float[] a, float[] tmp, int w, int h, int r)
    {
        for (var y = 0; y < h; y++)
        {
            var o = y * w;
            float sum = 0;
            for (var k = 0; k < Math.Min(r, w); k++) sum += a[o + k];
            for (var x = 0; x < w; x++)
            {
                if (x + r < w) sum += a[o + x + r];
                if (x - r - 1 >= 0) sum -= a[o + x - r - 1];
                tmp[o + x] = sum / (Math.Min(w - 1, x + r) - Math.Max(0, x - r) + 1);
            }
        }
        for (var x = 0; x < w; x++)
        {
            float sum = 0;
            for (var k = 0; k < Math.Min(r, h); k++) sum += tmp[k * w + x];
            for (var y = 0; y < h; y++)
            {
                if (y + r < h) sum += tmp[(y + r) * w + x];
                if (y - r - 1 >= 0) sum -= tmp[(y - r - 1) * w + x];
                a[y * w + x] = sum / (Math.Min(h - 1, y + r) - Math.Max(0, y - r) + 1);
            }
        }
    }
}
