using RealtimeMtl.Cli.Distributed;
using RealtimeMtl.Distributed.Jobs;

namespace RealtimeMtl.Cli.Tests;

/// <summary>One validation: a job's options go through rtmtl run's own checks, so the worker refuses what the CLI refuses, in its words.</summary>
public class JobArgumentsTests
{
    public static TheoryData<string, string, long?> Refused => new()
    {
        { "side", "9,1", null },
        { "grid", "auto", null },
        { "side", "auto", 0 },
        { "tiles", "auto", null },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_job_the_cli_refuses_is_refused_with_the_same_words(string layout, string depthRange, long? maxFrames)
    {
        var job = new JobOptions { Layout = layout, DepthRange = depthRange, MaxFrames = maxFrames };
        var refused = Assert.Throws<ArgumentException>(() => JobArguments.Read("synthetic:frames=2,size=64x48", job));
        var cli = Engine.Run("run --source synthetic:frames=2,size=64x48 " + string.Join(" ", JobArguments.For(job)));
        Assert.Equal(2, cli.Code);
        Assert.Contains($"error: {refused.Message}", cli.Stderr);
    }

    [Fact]
    public void A_job_reads_to_the_settings_its_command_line_gives()
    {
        var job = new JobOptions { Layout = "overlay", DepthRange = "0.5,6", MaxFrames = 40, Smooth = true, Realtime = true };
        var s = JobArguments.Read("clip.mp4", job, "--record", "out/a.mp4", "--quiet");
        Assert.Equal(("clip.mp4", 40L, true, true, "out/a.mp4"), (s.Source, s.MaxFrames!.Value, s.Realtime, s.Quiet, s.Record));
        Assert.Equal(RealtimeMtl.Inference.PostProcessing.SmoothMode.Flow, s.Smooth);
        Assert.Equal((0.5f, 6f), s.Render.DepthRange);
        Assert.Equal(RealtimeMtl.Render.Drawing.Layout.Overlay, s.Render.Layout);
    }
}
