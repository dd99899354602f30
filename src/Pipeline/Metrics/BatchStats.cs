using RealtimeMtl.Common.Measuring;
namespace RealtimeMtl.Pipeline.Metrics;

/// <summary>The stream muxer's figures: model runs, frames per run (a histogram by batch size), model time per run.</summary>
public sealed class BatchStats
{
    /// <summary>The largest batch counted on its own (--batch allows 1 to 64).</summary>
    public const int Largest = 64;
    private readonly long[] _sizes = new long[Largest + 1];
    private long _runs, _frames;

    /// <summary>After each model run: its batch size and model milliseconds (metrics observe it).</summary>
    public event Action<int, double>? Ran;

    /// <summary>Model milliseconds per run (a batch of any size).</summary>
    public LatencyRecorder ModelPerBatch { get; } = new("model per batch");

    public long Runs => Interlocked.Read(ref _runs);
    public long Frames => Interlocked.Read(ref _frames);
    public double MeanBatch => Runs == 0 ? double.NaN : (double)Frames / Runs;

    /// <summary>Runs by batch size: index n holds the runs of n frames.</summary>
    public long[] Histogram() => Enumerable.Range(0, _sizes.Length).Select(i => Interlocked.Read(ref _sizes[i])).ToArray();

    private readonly Dictionary<string, long> _incomplete = [];
    private long _sets;

    /// <summary>With --sync-ms: sets run together, and per camera the frames that went on without a complete set.</summary>
    public long Sets => Interlocked.Read(ref _sets);
    public IReadOnlyDictionary<string, long> IncompleteSets { get { lock (_incomplete) return new Dictionary<string, long>(_incomplete); } }

    public void CompleteSet() => Interlocked.Increment(ref _sets);

    public void IncompleteSet(string camera)
    {
        lock (_incomplete) _incomplete[camera] = _incomplete.GetValueOrDefault(camera) + 1;
    }

    public void Add(int size, double modelMs)
    {
        Interlocked.Increment(ref _runs);
        Interlocked.Add(ref _frames, size);
        Interlocked.Increment(ref _sizes[Math.Clamp(size, 0, _sizes.Length - 1)]);
        ModelPerBatch.Add(modelMs);
        Ran?.Invoke(size, modelMs);
    }
}
