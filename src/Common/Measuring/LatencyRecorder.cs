namespace RealtimeMtl.Common.Measuring;

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
        Added?.Invoke(ms);
    }

    /// <summary>Each sample as it is added (milliseconds), for exporters that keep their own histograms.</summary>
    public event Action<double>? Added;

    /// <summary>Percentile (0-100) over the latest samples (<see cref="RealtimeMtl.Common.Measuring.Percentile"/>: nearest rank).</summary>
    public double Percentile(double p)
    {
        Span<double> one = [p];
        Span<double> result = [double.NaN];
        Percentiles(one, result);
        return result[0];
    }

    /// <summary>Several percentiles from one sorted copy of the latest samples (a pooled buffer: no allocation).</summary>
    public void Percentiles(ReadOnlySpan<double> ps, Span<double> results)
    {
        var buffer = System.Buffers.ArrayPool<double>.Shared.Rent(_ring.Length);
        try
        {
            int n;
            lock (_gate)
            {
                n = (int)Math.Min(_count, _ring.Length);
                Array.Copy(_ring, buffer, n);
            }
            var sorted = buffer.AsSpan(0, n);
            sorted.Sort();
            for (var i = 0; i < ps.Length; i++)
                results[i] = RealtimeMtl.Common.Measuring.Percentile.OfSorted(sorted, ps[i] / 100.0);
        }
        finally { System.Buffers.ArrayPool<double>.Shared.Return(buffer); }
    }
}
