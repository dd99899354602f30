using System.Diagnostics;
using RealtimeMtl.Cli.Composition;
using RealtimeMtl.Pipeline.Metrics;
using Xunit;

namespace RealtimeMtl.Cli.Tests;

/// <summary>The run's frame rate has one definition, for one camera and for several: the frames after the first, per
/// second from the first frame out to the last.</summary>
public class RunSummaryTests
{
    private static RunSummary Camera(string name, long frames, double firstS, double lastS) => new()
    {
        Source = name, Model = "m", Device = "cpu", Stages = [], Camera = name, Frames = frames, Seconds = 100,
        FirstOutTicks = (long)(firstS * Stopwatch.Frequency), LastOutTicks = (long)(lastS * Stopwatch.Frequency),
    };

    [Fact]
    public void Several_cameras_rate_as_one_camera_does_from_the_first_frame_out_to_the_last()
    {
        // 11 frames from t=1 s to t=3 s, and 10 from t=2 s to t=6 s: 21 frames, the first out at 1 s, the last at 6 s.
        var fleet = RunSummary.Combine([Camera("a", 11, 1, 3), Camera("b", 10, 2, 6)], new BatchStats(), null, TimeSpan.Zero);
        Assert.Equal(20 / 5.0, fleet.Fps!.Value, 6);
        // A camera that produced nothing does not stretch the span; a fleet of one frame has no rate.
        Assert.Equal(20 / 5.0, RunSummary.Combine([Camera("a", 11, 1, 3), Camera("b", 10, 2, 6), Camera("c", 0, 0, 0)],
            new BatchStats(), null, TimeSpan.Zero).Fps!.Value, 6);
        Assert.Null(RunSummary.Combine([Camera("a", 1, 1, 1)], new BatchStats(), null, TimeSpan.Zero).Fps);
    }
}
