namespace RealtimeMtl.Common.Motion;

/// <summary>
/// Where each pixel of the current frame was in the previous one, and whether that can be trusted: the backward flow
/// (<see cref="DisFlow"/>, current into previous), checked against the forward flow (previous into current) by the
/// forward-backward test of Sundaram, Brox and Keutzer (ECCV 2010: |u + v|^2 &lt; 0.01 (|u|^2 + |v|^2) + 0.5), and by
/// the photometric error of the match. Disocclusions, new objects and cuts fail one test or the other.
/// </summary>
public sealed class MotionField(DisFlow? flow = null, float photometricTolerance = MotionField.DefaultPhotometricTolerance)
{
    /// <summary>Grey levels (0-255) a matched pixel may differ by: above sensor noise and codec ringing, below most
    /// changes of surface.</summary>
    public const float DefaultPhotometricTolerance = 24f;

    private readonly DisFlow _flow = flow ?? new DisFlow();
    private float[] _vx = [], _vy = [];

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
        }
        Width = w; Height = h;
        _flow.Compute(current, previous, FlowX, FlowY);
        _flow.Compute(previous, current, _vx, _vy);
        float[] cur = current.Image(0), prev = previous.Image(0);
        var trusted = 0;
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
                    ok = sx * sx + sy * sy < 0.01f * (ux * ux + uy * uy + vx * vx + vy * vy) + 0.5f
                        && Math.Abs(cur[i] - DisFlow.Sample(prev, w, h, px, py)) < photometricTolerance;
                }
                Trusted[i] = ok ? (byte)1 : (byte)0;
                if (ok) trusted++;
            }
        TrustedShare = (double)trusted / n;
    }
}
