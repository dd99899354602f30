namespace RealtimeMtl.Pipeline.Metrics;

/// <summary>
/// Milliseconds per frame for one stage: a fixed ring of the latest samples for percentiles (no allocation per
/// sample) plus running totals. Thread-safe for one writer and any number of readers.
/// </summary>
public sealed class LatencyRecorder(string name, int capacity = 4096)
{
    private readonly double[] _ring = new double[capacity];
    private long _count;
    private double _sum;
    private readonly object _gate = new();

    public string Name { get; } = name;
    public long Count => Interlocked.Read(ref _count);
    public double Mean { get { lock (_gate) return _count == 0 ? double.NaN : _sum / _count; } }
    public double Last { get { lock (_gate) return _count == 0 ? double.NaN : _ring[(_count - 1) % _ring.Length]; } }

    public void Add(double ms)
    {
        lock (_gate)
        {
            _ring[_count % _ring.Length] = ms;
            _count++;
            _sum += ms;
        }
    }

    /// <summary>Percentile (0-100) over the latest samples (nearest rank).</summary>
    public double Percentile(double p)
    {
        double[] copy;
        lock (_gate)
        {
            var n = (int)Math.Min(_count, _ring.Length);
            if (n == 0) return double.NaN;
            copy = new double[n];
            Array.Copy(_ring, copy, n);
        }
        Array.Sort(copy);
        var rank = (int)Math.Ceiling(p / 100.0 * copy.Length) - 1;
        return copy[Math.Clamp(rank, 0, copy.Length - 1)];
    }
}
