namespace RealtimeMtl.Capture.Synthetic;

/// <summary>
/// A point light of a given colour (linear BGR, 1 = white) and power. A positive <see cref="Radius"/> makes it an
/// area light: shadow rays aim at a jittered point on it, which gives soft shadow edges.
/// </summary>
public sealed record Light(Vec3 Position, Vec3 Color, double Power, double Radius = 0)
{
    /// <summary>
    /// The colour of a black body at <paramref name="kelvin"/> (2700 K tungsten to 6500 K daylight), as linear BGR
    /// normalised to a maximum of 1. A fit good to a few percent over 1000-12000 K.
    /// </summary>
    public static Vec3 ColourTemperature(double kelvin)
    {
        var t = kelvin / 100.0;
        double r, g, b;
        if (t <= 66)
        {
            r = 255;
            g = 99.4708025861 * Math.Log(t) - 161.1195681661;
            b = t <= 19 ? 0 : 138.5177312231 * Math.Log(t - 10) - 305.0447927307;
        }
        else
        {
            r = 329.698727446 * Math.Pow(t - 60, -0.1332047592);
            g = 288.1221695283 * Math.Pow(t - 60, -0.0755148492);
            b = 255;
        }
        static double Lin(double v) => Math.Pow(Math.Clamp(v, 0, 255) / 255.0, 2.2);
        var c = new Vec3(Lin(b), Lin(g), Lin(r));
        var max = Math.Max(c.X, Math.Max(c.Y, c.Z));
        return c * (1 / max);
    }
}
