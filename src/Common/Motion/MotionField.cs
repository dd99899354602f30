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
