namespace RealtimeMtl.Cli.Tests;

/// <summary>The summary text every command prints: what each figure of the run becomes.</summary>
public class RunReportTests
{
    private static RunSummary One(long frames, long notDrawn) => new()
    {
        Source = "six frames", Model = "m", Device = "cpu", Frames = frames, FramesNotDrawn = notDrawn, Fps = 12.5, Seconds = 0.4, Stages = [],
    };

    [Fact]
    public void Frames_no_output_showed_are_said_and_a_run_that_drew_every_frame_says_nothing_of_it()
    {
        var text = One(6, 6).ToText();
        Assert.Contains("render  6 of 6 frames not drawn", text);
        Assert.Contains("rate    12.5 FPS over 0.40 s", text);
        Assert.DoesNotContain("not drawn", One(6, 0).ToText());
    }

    [Fact]
    public void The_bus_counts_are_in_the_json_of_a_run_that_published_and_absent_from_one_that_did_not()
    {
        Assert.Contains("\"bus\"", (One(6, 0) with { Bus = new RunSummary.BusFigures(5, 1) }).ToJson());
        Assert.Contains("\"lost\": 1", (One(6, 0) with { Bus = new RunSummary.BusFigures(5, 1) }).ToJson());
        Assert.DoesNotContain("\"bus\"", One(6, 0).ToJson());
    }
}
