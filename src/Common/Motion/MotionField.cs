namespace RealtimeMtl.Common.Motion;

/// <summary>
/// Where each pixel of the current frame was in the previous one, and whether that can be trusted: the backward flow
/// (<see cref="DisFlow"/>, current into previous), checked against the forward flow (previous into current) by the
/// forward-backward test of Sundaram, Brox and Keutzer (ECCV 2010: |u + v|^2 &lt; 0.01 (|u|^2 + |v|^2) + 0.5), and by
/// the photometric error of the match, averaged over a 5x5 window so that a pixel of a new surface that happens to match
/// one grey level is not trusted. Disocclusions, new objects and cuts fail one test or the other.
/// </summary>
public sealed class MotionField(DisFlow? flow = null, float photometricTolerance = MotionField.DefaultPhotometricTolerance)
{
    /// <summary>Grey levels (0-255) a match may differ by on average around a pixel: above sensor noise and codec
    /// ringing, below most changes of surface.</summary>
    public const float DefaultPhotometricTolerance = 24f;

    private readonly DisFlow _flow = flow ?? new DisFlow();
    private float[] _vx = [], _vy = [], _err = [], _rows = [];

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
        int w = current.Width(0), h = current.Height(0), n = w * h;
        if (previous.Width(0) != w || previous.Height(0) != h) throw new ArgumentException("the two frames differ in size");
        if (FlowX.Length != n)
        {
            FlowX = new float[n]; FlowY = new float[n]; Trusted = new byte[n]; _vx = new float[n]; _vy = new float[n];
            _err = new float[n]; _rows = new float[n];
        }
        Width = w; Height = h;
        _flow.Compute(current, previous, FlowX, FlowY);
        _flow.Compute(previous, current, _vx, _vy);
        float[] cur = current.Image(0), prev = previous.Image(0);
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                float ux = FlowX[i], uy = FlowY[i], px = x + ux, py = y + uy;
                var ok = px >= 0 && py >= 0 && px <= w - 1 && py <= h - 1;
                if (ok)
                {
                    float vx = DisFlow.Sample(_vx, w, h, px, py), vy = DisFlow.Sample(_vy, w, h, px, py);
                    float sx = ux + vx, sy = uy + vy;
                    ok = sx * sx + sy * sy < 0.01f * (ux * ux + uy * uy + vx * vx + vy * vy) + 0.5f;
                }
                Trusted[i] = ok ? (byte)1 : (byte)0;
                _err[i] = Math.Abs(cur[i] - DisFlow.Sample(prev, w, h, px, py));
            }
        BoxMean(_err, _rows, w, h, 2);
        var trusted = 0;
        for (var i = 0; i < n; i++)
        {
            if (Trusted[i] != 0 && _err[i] >= photometricTolerance) Trusted[i] = 0;
            trusted += Trusted[i];
        }
        TrustedShare = (double)trusted / n;
    }

    /// <summary>The mean over a (2r+1) square window, in place (rows, then columns; the window shrinks at the edges).</summary>
    private static void BoxMean(float[] a, float[] tmp, int w, int h, int r)
    {
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                float sum = 0; var count = 0;
                for (int k = Math.Max(0, x - r), e = Math.Min(w - 1, x + r); k <= e; k++) { sum += a[y * w + k]; count++; }
                tmp[y * w + x] = sum / count;
            }
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                float sum = 0; var count = 0;
                for (int k = Math.Max(0, y - r), e = Math.Min(h - 1, y + r); k <= e; k++) { sum += tmp[k * w + x]; count++; }
                a[y * w + x] = sum / count;
            }
    }
}
