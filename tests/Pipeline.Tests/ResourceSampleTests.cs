using RealtimeMtl.Common.Measuring;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>The resource sample the engine takes every <see cref="PipelineStats.ResourceEvery"/> frames of each camera.</summary>
public class ResourceSampleTests
{
    [Fact]
    public void A_sample_reads_the_resident_set_and_the_open_descriptors_without_allocating()
    {
        // Keep a 64 MiB block resident, so the figure has something to see.
        var block = new byte[64 << 20];
        Array.Fill(block, (byte)1);
        var sample = ResourceSample.Now(7, 0);
        var expected = Environment.WorkingSet / 1048576.0;
        Assert.Equal(7, sample.Frame);
        Assert.InRange(sample.WorkingSetMiB, Math.Max(64, expected * 0.8), expected * 1.2);
        Assert.True(sample.Handles > 2, $"open descriptors {sample.Handles}");
        ResourceSample.Now(8, 0);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++) ResourceSample.Now(i, 0);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        GC.KeepAlive(block);
    }
}
