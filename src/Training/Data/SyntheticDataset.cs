using System.Collections.Concurrent;
using OpenCvSharp;
using RealtimeMtl.Capture.Synthetic;

namespace RealtimeMtl.Training.Data;

public enum Split { Train, Val, Test }

/// <summary>
/// Still samples of the synthetic world. The split is fixed by the seed: train, val and test draw rooms from
/// disjoint index ranges, so no room appears in two splits. Samples are rendered once and cached.
/// </summary>
public sealed class SyntheticDataset : ISegDepthDataset
{
    private const long SplitStride = 10_000_000;
    private readonly ConcurrentDictionary<int, Sample> _cache = new();
    private readonly int _seed;
    private readonly long _offset;

    public SyntheticDataset(int seed, Split split, int count, int width, int height, bool depthNoise = false, bool randomised = false)
    {
        Randomised = randomised;
        _seed = seed;
        _offset = (long)split * SplitStride;
        Count = count;
        Width = width;
        Height = height;
        DepthNoise = depthNoise;
        Name = $"{(randomised ? "synthetic-dr" : "synthetic")}(seed={seed},{split.ToString().ToLowerInvariant()})";
    }

    public string Name { get; }
    public int Count { get; }
    public int Classes => 13;
    public int Width { get; }
    public int Height { get; }
    public bool DepthNoise { get; }

    /// <summary>Stills of the domain-randomised world (<see cref="DomainRandomisation"/>) instead of the classic one.</summary>
    public bool Randomised { get; }

    public Sample Get(int index) => _cache.GetOrAdd(index, Render);

    /// <summary>Renders every sample using all cores (call before training so epochs are not render-bound).</summary>
    public void Warm(Action<int>? progress = null)
    {
        var done = 0;
        Parallel.For(0, Count, i =>
        {
            Get(i);
            var n = Interlocked.Increment(ref done);
            progress?.Invoke(n);
        });
    }

    private Sample Render(int index)
    {
        using var image = new Mat();
        using var depth = new Mat();
        using var labels = new Mat();
        SyntheticWorld.RenderStill(_seed, _offset + index, Width, Height, image, depth, labels, DepthNoise, Randomised);
        var img = new byte[Width * Height * 3];
        var d = new float[Width * Height];
        var l = new byte[Width * Height];
        System.Runtime.InteropServices.Marshal.Copy(image.Data, img, 0, img.Length);
        System.Runtime.InteropServices.Marshal.Copy(depth.Data, d, 0, d.Length);
        System.Runtime.InteropServices.Marshal.Copy(labels.Data, l, 0, l.Length);
        return new Sample(img, d, l, Width, Height);
    }
}
