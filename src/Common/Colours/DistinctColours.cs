namespace RealtimeMtl.Common.Colours;

/// <summary>Colours that tell classes apart: the palette of a label set that has no curated one.</summary>
public static class DistinctColours
{
    /// <summary>Distinct colours by golden-ratio hue steps, for label sets without a curated palette.</summary>
    public static IReadOnlyList<(byte B, byte G, byte R)> Make(int count)
    {
        var list = new List<(byte, byte, byte)>(count);
        for (var i = 0; i < count; i++)
        {
            var h = (i * 0.61803398875) % 1.0;
            var v = i % 2 == 0 ? 0.95 : 0.7;
            var (r, g, b) = HsvToRgb(h, 0.75, v);
            list.Add(((byte)(b * 255), (byte)(g * 255), (byte)(r * 255)));
        }
        return list;
    }

    private static (double R, double G, double B) HsvToRgb(double h, double s, double v)
    {
        var i = (int)(h * 6) % 6;
        var f = h * 6 - Math.Floor(h * 6);
        double p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
        return i switch { 0 => (v, t, p), 1 => (q, v, p), 2 => (p, v, t), 3 => (p, q, v), 4 => (t, p, v), _ => (v, p, q) };
    }
}
