using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>The one percentile rule (nearest rank), as every figure rtmtl reports uses it.</summary>
public class PercentileTests
{
    [Theory]
    [InlineData(4, 0.5, 1)]     // even count: the lower middle value
    [InlineData(5, 0.5, 2)]
    [InlineData(20, 0.95, 18)]  // ceil(0.95 × 20) = 19th value, not pushed to the 20th by rounding
    [InlineData(100, 0.99, 98)]
    [InlineData(100, 0.02, 1)]
    [InlineData(3, 0.0, 0)]
    [InlineData(3, 1.0, 2)]
    [InlineData(1, 0.5, 0)]
    public void The_rank_is_ceil_q_n(int n, double q, int index) => Assert.Equal(index, Percentile.Index(n, q));

    [Fact]
    public void Selection_sorting_and_the_latency_recorder_agree()
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 501).Select(_ => (float)random.NextDouble() * 10).ToArray();
        var sorted = values.Order().ToArray();
        var recorder = new LatencyRecorder("t", 1024);
        foreach (var v in values) recorder.Add(v);
        foreach (var q in new[] { 0.02, 0.5, 0.95, 0.99 })
        {
            var expected = sorted[(int)Math.Ceiling(q * values.Length) - 1];
            Assert.Equal(expected, Percentile.OfSorted(sorted, q));
            Assert.Equal(expected, Percentile.Select(values.ToArray(), q));
            Assert.Equal(expected, recorder.Percentile(q * 100), 5);
        }
        Assert.True(float.IsNaN(Percentile.Select(Span<float>.Empty, 0.5)));
    }
}
