namespace RealtimeMtl.Cli.Tests;

/// <summary>rtmtl run --save: every run in a new runs/run-N, never over an earlier one; runs/latest links to the newest.</summary>
public class RunFolderTests
{
    [Fact]
    public async Task Save_puts_each_run_in_a_new_numbered_folder_and_links_latest_to_it()
    {
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        var model = Engine.ShippedModel;
        var first = await Engine.RunAsync($"run --source synthetic:frames=12,size=96x72 --save --quiet -m {model}", null, workingDirectory: work);
        Assert.True(first.Code == 0, first.Stderr);
        var run1 = Path.Combine(work, "runs", "run-1");
        foreach (var f in new[] { "annotated.mp4", "stats.json", "raw" }) Assert.True(Path.Exists(Path.Combine(run1, f)), f + " missing in run-1");
        Assert.Equal(12, Directory.GetFiles(Path.Combine(run1, "raw"), "*_labels.png").Length);
        var before = File.ReadAllBytes(Path.Combine(run1, "stats.json"));
        var stampBefore = File.GetLastWriteTimeUtc(Path.Combine(run1, "annotated.mp4"));

        var second = await Engine.RunAsync($"run --source synthetic:frames=6,size=96x72 --save --quiet -m {model}", null, workingDirectory: work);
        Assert.True(second.Code == 0, second.Stderr);
        var run2 = Path.Combine(work, "runs", "run-2");
        Assert.Equal(6, Directory.GetFiles(Path.Combine(run2, "raw"), "*_labels.png").Length);
        // The first run is untouched.
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run1, "stats.json")));
        Assert.Equal(stampBefore, File.GetLastWriteTimeUtc(Path.Combine(run1, "annotated.mp4")));
        Assert.Equal(12, Directory.GetFiles(Path.Combine(run1, "raw"), "*_labels.png").Length);
        // runs/latest is a link to run-2.
        var latest = new DirectoryInfo(Path.Combine(work, "runs", "latest"));
        Assert.Equal("run-2", latest.LinkTarget);
    }
}
