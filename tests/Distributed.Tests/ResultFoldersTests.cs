using RealtimeMtl.Distributed.Jobs;
using RealtimeMtl.Distributed.Worker;

namespace RealtimeMtl.Distributed.Tests;

/// <summary>The commit rules that keep a result folder whole or absent and never duplicated, whatever order attempts end in.</summary>
public class ResultFoldersTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rtmtl-results-").FullName;
    private static readonly JobSpec Job = new() { Id = "0123456789abcdef", Source = "clips/a.mp4", Output = "clips/a" };

    private string Partial(ResultFolders r, int attempt, string worker, string content)
    {
        var dir = r.NewPartial(Job, worker, attempt);
        File.WriteAllText(Path.Combine(dir, "annotated.mp4"), content);
        return dir;
    }

    [Fact]
    public void An_attempt_commits_by_rename_and_removes_earlier_attempts_leftovers_but_not_a_later_live_one()
    {
        var r = new ResultFolders(_root);
        var dead = Partial(r, 1, "killed", "half");
        var mine = Partial(r, 2, "rescuer", "whole");
        var later = Partial(r, 3, "redelivered", "running");
        Assert.False(r.IsCommitted(Job));
        Assert.True(r.Commit(Job, mine, "rescuer", 2));
        Assert.True(r.IsCommitted(Job));
        Assert.Equal("whole", File.ReadAllText(Path.Combine(_root, "clips", "a", "annotated.mp4")));
        Assert.Equal("rescuer", ResultFolders.ReadMarker(Path.Combine(_root, "clips", "a"))!.Worker);
        Assert.False(Directory.Exists(dead));
        Assert.False(Directory.Exists(mine));
        Assert.True(Directory.Exists(later)); // may still be writing: its own commit will discard it

        // The later attempt ends: the job is committed already, so its folder is discarded and nothing is replaced.
        Assert.False(r.Commit(Job, later, "redelivered", 3));
        Assert.False(Directory.Exists(later));
        Assert.Equal("whole", File.ReadAllText(Path.Combine(_root, "clips", "a", "annotated.mp4")));
        Assert.Single(Directory.GetDirectories(Path.Combine(_root, "clips")));
    }

    [Fact]
    public void A_forced_run_replaces_the_earlier_runs_folder()
    {
        var r = new ResultFolders(_root);
        Assert.True(r.Commit(Job, Partial(r, 1, "w", "run 1"), "w", 1));
        var run2 = Job with { Run = 2 };
        Assert.False(r.IsCommitted(run2));
        var dir = r.NewPartial(run2, "w", 1);
        File.WriteAllText(Path.Combine(dir, "annotated.mp4"), "run 2");
        Assert.True(r.Commit(run2, dir, "w", 1));
        Assert.Equal("run 2", File.ReadAllText(Path.Combine(_root, "clips", "a", "annotated.mp4")));
        Assert.Equal(2, ResultFolders.ReadMarker(Path.Combine(_root, "clips", "a"))!.Run);
        Assert.Empty(Directory.GetDirectories(Path.Combine(_root, ResultFolders.PartialFolder)));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/etc/cron.d")]
    [InlineData("a/../../escape")]
    [InlineData(".rtmtl-partial/x")]
    [InlineData("")]
    public void Output_names_that_climb_out_or_hit_the_partial_folder_are_refused(string output)
    {
        var e = Assert.Throws<JobRefusedException>(() => new ResultFolders(_root).Final(Job with { Output = output }));
        Assert.Contains("--out-root", e.Message);
    }

    [Fact]
    public void An_output_through_a_symbolic_link_that_leaves_the_root_is_refused()
    {
        var outside = Directory.CreateTempSubdirectory("rtmtl-outside-").FullName;
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(_root, "link"), outside);
            var e = Assert.Throws<JobRefusedException>(() => new ResultFolders(_root).Final(Job with { Output = "link/a" }));
            Assert.Contains("resolves outside the worker's --out-root", e.Message);
        }
        finally { Directory.Delete(outside, recursive: true); }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
