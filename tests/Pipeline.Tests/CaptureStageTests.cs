using System.Threading.Channels;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Stages;
using Xunit;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>The "capture" stage time is the source's own time to deliver a frame, not the engine's pace.</summary>
public class CaptureStageTests
{
    [Fact]
    public async Task A_source_that_delivers_at_once_captures_in_no_time_however_slowly_the_engine_takes_its_frames()
    {
        var stats = new PipelineStats();
        var channel = Channel.CreateBounded<Frame>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        var stage = new CaptureStage(new NumberedCamera(12), stats, live: false, maxFrames: null, new NullEventLog());
        using var fault = new StageFault();
        var run = stage.RunAsync(channel.Writer, CancellationToken.None, fault);
        // The engine takes a frame every 40 ms: the source waits for room in between, which is not capture.
        await foreach (var frame in channel.Reader.ReadAllAsync())
        {
            frame.Dispose();
            await Task.Delay(40);
        }
        await run;
        Assert.Equal(12, stats.Capture.Count);
        Span<double> p = stackalloc double[1];
        stats.Capture.Percentiles([50], p);
        Assert.True(p[0] < 20, $"capture p50 {p[0]:0.0} ms, the engine's pace (40 ms) rather than the source's time");
    }
}
