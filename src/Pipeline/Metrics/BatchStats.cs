namespace RealtimeMtl.Pipeline.Metrics;

/// <summary>The stream muxer's figures: model runs, frames per run (a histogram by batch size), model time per run.</summary>
public sealed class BatchStats(int maxBatch)
{
    private readonly long[] _sizes = new long[Math.Max(1, maxBatch) + 1];
    private long _runs, _frames;

    public int MaxBatch { get; } = Math.Max(1, maxBatch);

    /// <summary>Model milliseconds per run (a batch of any size).</summary>
    public LatencyRecorder ModelPerBatch { get; } = new("model per batch");

    public long Runs => Interlocked.Read(ref _runs);
    public long Frames => Interlocked.Read(ref _frames);
    public double MeanBatch => Runs == 0 ? double.NaN : (double)Frames / Runs;

    /// <summary>Runs by batch size: index n holds the runs of n frames.</summary>
    public long[] Histogram() => Enumerable.Range(0, _sizes.Length).Select(i => Interlocked.Read(ref _sizes[i])).ToArray();

    public void Add(int size, double modelMs)
    {
        Interlocked.Increment(ref _runs);
        Interlocked.Add(ref _frames, size);
        Interlocked.Increment(ref _sizes[Math.Clamp(size, 0, _sizes.Length - 1)]);
        ModelPerBatch.Add(modelMs);
    }
}
