namespace RealtimeMtl.Common.Motion;

/// <summary>
/// One grey image as a pyramid for <see cref="DisFlow"/>: level 0 at full size, each next level the 2x2 mean of the one
/// before, with central-difference gradients on every level. Buffers are kept and refilled frame after frame.
/// </summary>
public sealed class GrayPyramid
{
    private float[][] _levels = [], _gx = [], _gy = [];
    private int[] _w = [], _h = [];

    public int Levels => _levels.Length;
    public int Width(int level) => _w[level];
    public int Height(int level) => _h[level];
    public float[] Image(int level) => _levels[level];
    public float[] GradientX(int level) => _gx[level];
    public float[] GradientY(int level) => _gy[level];

    /// <summary>Fills the pyramid of a <paramref name="width"/> x <paramref name="height"/> image from an 8-bit grey image
    /// of its level <paramref name="from"/> ((width &gt;&gt; from) x (height &gt;&gt; from)): that level and the coarser ones
    /// get their images and gradients; finer levels are left as they were (a flow that starts at a coarser level never
    /// reads them).</summary>
    public void Fill(ReadOnlySpan<byte> gray, int width, int height, int levels, int from = 0)
    {
        if (from < 0 || from >= levels) throw new ArgumentOutOfRangeException(nameof(from), $"level {from} of {levels}");
        if (_levels.Length != levels || _w[0] != width || _h[0] != height) Allocate(width, height, levels);
        var first = _levels[from];
        if (gray.Length < first.Length) throw new ArgumentException("the grey image is smaller than its level's size");
        for (var i = 0; i < first.Length; i++) first[i] = gray[i];
        for (var l = from + 1; l < levels; l++) Halve(_levels[l - 1], _w[l - 1], _levels[l], _w[l], _h[l]);
        for (var l = from; l < levels; l++) Gradients(_levels[l], _w[l], _h[l], _gx[l], _gy[l]);
    }

    /// <summary>How many levels a pyramid of this size gets for patches of <paramref name="patch"/> pixels: the coarsest
    /// level is still at least two patches on its short side.</summary>
    public static int LevelsFor(int width, int height, int patch)
    {
        var levels = 1;
        while (levels < 6 && Math.Min(width, height) >> levels >= 2 * patch) levels++;
        return levels;
    }

    private void Allocate(int width, int height, int levels)
    {
        _levels = new float[levels][]; _gx = new float[levels][]; _gy = new float[levels][];
        _w = new int[levels]; _h = new int[levels];
        for (var l = 0; l < levels; l++)
        {
            _w[l] = Math.Max(1, width >> l); _h[l] = Math.Max(1, height >> l);
            var n = _w[l] * _h[l];
            _levels[l] = new float[n]; _gx[l] = new float[n]; _gy[l] = new float[n];
        }
    }

    private static void Halve(float[] src, int sw, float[] dst, int w, int h)
    {
        for (var y = 0; y < h; y++)
        {
            int r0 = 2 * y * sw, r1 = r0 + sw, o = y * w;
            for (var x = 0; x < w; x++)
                dst[o + x] = 0.25f * (src[r0 + 2 * x] + src[r0 + 2 * x + 1] + src[r1 + 2 * x] + src[r1 + 2 * x + 1]);
        }
    }

    private static void Gradients(float[] img, int w, int h, float[] gx, float[] gy)
    {
        for (var y = 0; y < h; y++)
        {
            int o = y * w, up = Math.Max(y - 1, 0) * w, down = Math.Min(y + 1, h - 1) * w;
            float dy = y == 0 || y == h - 1 ? 1f : 0.5f;
            for (var x = 0; x < w; x++)
            {
                int left = Math.Max(x - 1, 0), right = Math.Min(x + 1, w - 1);
                gx[o + x] = (img[o + right] - img[o + left]) * (x == 0 || x == w - 1 ? 1f : 0.5f);
                gy[o + x] = (img[down + x] - img[up + x]) * dy;
            }
        }
    }
}
