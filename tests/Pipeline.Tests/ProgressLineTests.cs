using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Pipeline.Tests;

public class ProgressLineTests
{
    [Fact]
    public void A_file_of_known_length_shows_done_of_total_percentage_and_eta()
    {
        // 120 of 300 frames at 30 FPS: 40 %, 180 frames left = 6 s.
        Assert.Equal("120 / 300 frames (40 %), ETA 0:06  30.0 FPS  e2e 12.5 ms  dropped 0", ProgressLine.Format(120, 300, 30, 12.5, 0));
        Assert.StartsWith("300 / 300 frames (100 %), ETA 0:00", ProgressLine.Format(300, 300, 30, 12.5, 0));
        // 9000 frames left at 25 FPS: 6 minutes.
        Assert.Contains("ETA 6:00", ProgressLine.Format(1000, 10_000, 25, 10, 0));
    }

    [Fact]
    public void A_live_source_shows_frames_and_rate_only()
    {
        Assert.Equal("57 frames  29.9 FPS  e2e 20.0 ms  dropped 3", ProgressLine.Format(57, null, 29.9, 20, 3));
        Assert.DoesNotContain("ETA", ProgressLine.Format(57, null, double.NaN, double.NaN, 0));
    }

    [Fact]
    public void Every_progress_line_writes_time_left_the_same_way()
    {
        Assert.Equal("0:06", ProgressLine.Eta(6));
        Assert.Equal("59:59", ProgressLine.Eta(3599));
        Assert.Equal("1:00:00", ProgressLine.Eta(3600));
        Assert.Equal("26:46:40", ProgressLine.Eta(96_400));
        Assert.Equal("-", ProgressLine.Eta(double.NaN));
    }
}
