namespace RealtimeMtl.Cli.Tests;

/// <summary>rtmtl run --save: every run in a new runs/run/run-N, never over an earlier one; runs/run/latest links to the newest.</summary>
public class RunFolderTests
{
    [Fact]
    public async Task Save_puts_each_run_in_a_new_numbered_folder_and_links_latest_to_it()
    {
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        var model = Engine.ShippedModel;
        var first = await Engine.RunAsync($"run --source synthetic:frames=12,size=96x72 --save --quiet -m {model}", null, workingDirectory: work);
        Assert.True(first.Code == 0, first.Stderr);
        var run1 = Path.Combine(work, "runs", "run", "run-1");
        foreach (var f in new[] { "annotated.mp4", "stats.json", "raw" }) Assert.True(Path.Exists(Path.Combine(run1, f)), f + " missing in run-1");
        Assert.Equal(12, Directory.GetFiles(Path.Combine(run1, "raw"), "*_labels.png").Length);
        var before = File.ReadAllBytes(Path.Combine(run1, "stats.json"));
        var stampBefore = File.GetLastWriteTimeUtc(Path.Combine(run1, "annotated.mp4"));

        var second = await Engine.RunAsync($"run --source synthetic:frames=6,size=96x72 --save --quiet -m {model}", null, workingDirectory: work);
        Assert.True(second.Code == 0, second.Stderr);
        var run2 = Path.Combine(work, "runs", "run", "run-2");
        Assert.Equal(6, Directory.GetFiles(Path.Combine(run2, "raw"), "*_labels.png").Length);
        // The first run is untouched.
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run1, "stats.json")));
        Assert.Equal(stampBefore, File.GetLastWriteTimeUtc(Path.Combine(run1, "annotated.mp4")));
        Assert.Equal(12, Directory.GetFiles(Path.Combine(run1, "raw"), "*_labels.png").Length);
        // runs/run/latest is a link to run-2 (training runs have their own, runs/train/latest).
        var latest = new DirectoryInfo(Path.Combine(work, "runs", "run", "latest"));
        Assert.Equal("run-2", latest.LinkTarget);
    }

    [Fact]
    public async Task A_run_refused_for_a_bad_source_or_option_makes_no_run_folder()
    {
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        foreach (var args in new[] { "run --source /nonexistent/clip.mp4 --save", "run --source synthetic:frames=2 --save --max-frames 0",
            "run --source synthetic:frames=2 --source synthetic:frames=2 --save --publish nats://127.0.0.1:1" })
        {
            var r = await Engine.RunAsync(args, null, workingDirectory: work);
            Assert.True(r.Code == 2, r.Stderr);
            Assert.False(Directory.Exists(Path.Combine(work, "runs")), $"{args} made runs/");
        }
        // Several cameras: one run folder, a subfolder per camera.
        var ok = await Engine.RunAsync($"run --source a=synthetic:frames=3,size=96x72 --source b=synthetic:frames=4,size=96x72 --save --quiet -m " +
            $"{Engine.ShippedModel}", null, workingDirectory: work);
        Assert.True(ok.Code == 0, ok.Stderr);
        var run = Path.Combine(work, "runs", "run", "run-1");
        Assert.Equal(3, Engine.Probe(Path.Combine(run, "a", "annotated.mp4")).Frames);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(run, "b", "raw"), "*_labels.png").Length);
        Assert.True(File.Exists(Path.Combine(run, "stats.json")));
    }
}
