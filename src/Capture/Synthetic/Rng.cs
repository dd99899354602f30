namespace RealtimeMtl.Capture.Synthetic;

/// <summary>SplitMix64: a tiny, fast generator whose sequence is fixed by the seed on every runtime and platform.</summary>
public struct Rng(ulong seed)
{
    private ulong _state = seed;

    public static Rng For(int seed, long stream) => new((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)stream
        * 0xD1B54A32D192ED03UL ^ 0x5851F42D4C957F2DUL);

    public ulong NextULong()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double Next() => (NextULong() >> 11) * (1.0 / (1UL << 53));
    public double Range(double lo, double hi) => lo + (hi - lo) * Next();
    public int Int(int lo, int hiExclusive) => lo + (int)(Next() * (hiExclusive - lo));
    public bool Chance(double p) => Next() < p;

    /// <summary>Standard normal (Box-Muller).</summary>
    public double Gaussian()
    {
        var u1 = 1.0 - Next();
        var u2 = Next();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Stateless hash of integer coordinates into [0, 1), for procedural textures.</summary>
    public static float Hash(int x, int y, int z)
    {
        var h = (uint)(x * 374761393 + y * 668265263 + z * 2147483647);
        h = (h ^ (h >> 13)) * 1274126177u;
        h ^= h >> 16;
        return (h & 0xFFFFFF) / 16777216f;
    }
}
