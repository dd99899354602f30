using RealtimeMtl.Common.Measuring;
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

/// <summary>The one progress printer: redrawn in place on a terminal, plain and sparse lines in a log.</summary>
public class ProgressPrinterTests
{
    [Fact]
    public void On_a_terminal_the_line_is_redrawn_in_place_and_ended_before_other_output()
    {
        var w = new StringWriter();
        var p = new ProgressPrinter(w, terminal: true);
        p.Show(() => "1 / 3");
        p.Show(() => "2 / 3");        // within 250 ms: not drawn
        p.Show(() => "3 / 3", final: true);
        p.Interrupt();
        p.Interrupt();                // nothing open: no second newline
        Assert.Equal("\r1 / 3   \r3 / 3   " + Environment.NewLine, w.ToString());
    }

    [Fact]
    public void In_a_log_lines_are_plain_and_sparse_and_the_last_one_always_shows()
    {
        var w = new StringWriter();
        var p = new ProgressPrinter(w, terminal: false) { PlainEvery = TimeSpan.FromHours(1) };
        for (var i = 1; i <= 100; i++) p.Show(() => $"{i} / 100", final: i == 100);
        p.Done();
        Assert.Equal(["1 / 100", "100 / 100"], w.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain('\r', w.ToString());
    }

    [Fact]
    public void Work_shorter_than_the_quiet_time_shows_nothing_but_its_final_line()
    {
        var w = new StringWriter();
        var p = new ProgressPrinter(w, terminal: false) { Quiet = TimeSpan.FromHours(1) };
        p.Show(() => "early");
        Assert.Equal("", w.ToString());
        p.Show(() => "done", final: true);
        Assert.Equal("done" + Environment.NewLine, w.ToString());
    }
}
