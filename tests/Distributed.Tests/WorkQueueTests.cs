using System.Text.Json;
using RealtimeMtl.Distributed.Jobs;
using RealtimeMtl.Tests.Support;
using Xunit.Abstractions;

namespace RealtimeMtl.Distributed.Tests;

/// <summary>
/// The many-machines work queue against a real nats-server with JetStream, workers as separate rtmtl processes, real
/// ffmpeg-made videos and ffprobe to count what was written. One class: these tests run one after another, so the
/// worker processes of one test do not compete with another's on a 2-core machine.
/// </summary>
[Collection(nameof(BusTests))]
public class WorkQueueTests(ITestOutputHelper output)
{
    private static List<string> ResultFolders(string results) =>
        Directory.GetFiles(results, "job.json", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/.rtmtl-partial/")).Select(f => Path.GetRelativePath(results, Path.GetDirectoryName(f)!)).Order().ToList();

    private static string[] PartialLeftovers(string results)
    {
        var dir = Path.Combine(results, ".rtmtl-partial");
        return Directory.Exists(dir) ? Directory.GetFileSystemEntries(dir) : [];
    }

    [Fact]
    public async Task Twelve_jobs_over_three_workers_each_output_once_with_its_sources_frame_count()
    {
        await using var c = await Cluster.StartAsync();
        var frames = new Dictionary<string, int>();
        for (var i = 0; i < 12; i++)
        {
            var n = 6 + i % 5 * 3;
            Clips.Make(Path.Combine(c.Inputs, "site", $"clip{i:00}.mp4"), n);
            frames[$"site/clip{i:00}"] = n;
        }
        var workers = new List<Rtmtl>();
        foreach (var name in new[] { "w1", "w2", "w3" }) workers.Add(await c.WorkerAsync(name));

        var submit = await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{Path.Combine(c.Inputs, "site")}\" --layout overlay");
        Assert.True(submit.Code == 0, submit.Stderr);
        Assert.Contains("12 queued, 0 skipped", submit.Stdout);
        var rows = await c.WaitForJobsAsync(r => r.Count == 12 && r.All(j => j.State == JobState.Done));

        // Every result folder exactly once, whole: the annotated video has its source's frames.
        Assert.Equal(frames.Keys.Order(), ResultFolders(c.Results));
        foreach (var (name, n) in frames)
        {
            Assert.Equal(n, Clips.Frames(Path.Combine(c.Results, name, "annotated.mp4")));
            using var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(c.Results, name, "stats.json")));
            Assert.Equal(name, rows.Single(r => r.Output == name).Output);
        }
        Assert.Empty(PartialLeftovers(c.Results));
        Assert.All(rows, r => Assert.Equal(1, r.Attempts));
        var took = rows.Select(r => r.Worker).Distinct().ToList();
        output.WriteLine($"workers that took part: {string.Join(", ", took)} " +
            $"({string.Join(", ", rows.GroupBy(r => r.Worker).Select(g => $"{g.Key}: {g.Count()}"))})");
        Assert.True(took.Count > 1, "only one worker took jobs: " + string.Join(", ", took));

        // Submitting the same work again is skipped; rtmtl jobs --json shows the final states.
        var again = await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{Path.Combine(c.Inputs, "site")}\" --layout overlay");
        Assert.Contains("0 queued, 12 skipped", again.Stdout);
        var jobs = await c.RtmtlAsync($"jobs {c.Auth} --json");
        Assert.True(jobs.Code == 0, jobs.Stderr);
        using var doc = JsonDocument.Parse(jobs.Stdout);
        Assert.Equal(1, doc.RootElement.GetProperty("schema_version").GetInt32());
        Assert.Equal(0, doc.RootElement.GetProperty("depth").GetInt64());
        var listed = doc.RootElement.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(12, listed.Count);
        Assert.All(listed, j =>
        {
            Assert.Equal("done", j.GetProperty("state").GetString());
            Assert.Equal(frames[j.GetProperty("output").GetString()!], j.GetProperty("frames_done").GetInt64());
        });

        // SIGTERM with nothing running: each worker leaves cleanly.
        foreach (var w in workers) w.Signal(Signals.SIGTERM);
        foreach (var w in workers)
        {
            Assert.Equal(0, await w.WaitForExitAsync(30_000));
            Assert.Contains("left cleanly", w.Stderr);
        }
    }

    [Fact]
    public async Task A_killed_workers_job_is_redelivered_and_completed_by_another_whole_and_once()
    {
        await using var c = await Cluster.StartAsync();
        Clips.Make(Path.Combine(c.Inputs, "long.mp4"), 240);
        var first = await c.WorkerAsync("doomed", "--ack-wait 3");
        Assert.Equal(0, (await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{Path.Combine(c.Inputs, "long.mp4")}\"")).Code);
        await c.WaitForJobsAsync(r => r.Count == 1 && r[0].State == JobState.Running && r[0].FramesDone > 0);
        first.Signal(Signals.SIGKILL);
        await first.WaitForExitAsync(10_000);
        // The dead worker's partial folder is on the shared storage; nothing was committed.
        Assert.NotEmpty(PartialLeftovers(c.Results));
        Assert.Empty(ResultFolders(c.Results));

        await c.WorkerAsync("rescuer", "--ack-wait 3");
        var rows = await c.WaitForJobsAsync(r => r[0].State == JobState.Done);
        Assert.Equal("rescuer", rows[0].Worker);
        Assert.Equal(2, rows[0].Attempts);
        Assert.Equal(["long"], ResultFolders(c.Results));
        Assert.Equal(240, Clips.Frames(Path.Combine(c.Results, "long", "annotated.mp4")));
        Assert.Empty(PartialLeftovers(c.Results));
    }

    [Fact]
    public async Task A_corrupt_file_fails_once_with_the_reason_and_is_not_retried()
    {
        await using var c = await Cluster.StartAsync();
        File.WriteAllBytes(Path.Combine(c.Inputs, "broken.mp4"), Enumerable.Range(0, 4096).Select(i => (byte)(i * 37)).ToArray());
        Clips.Make(Path.Combine(c.Inputs, "fine.mp4"), 5);
        var worker = await c.WorkerAsync("w1", "--retry-delay 0.5 --max-deliver 5");
        Assert.Equal(0, (await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{Path.Combine(c.Inputs, "broken.mp4")}\" " +
            $"\"{Path.Combine(c.Inputs, "fine.mp4")}\"")).Code);
        var rows = await c.WaitForJobsAsync(r => r.Count == 2 && r.All(j => j.IsFinal));
        var broken = rows.Single(r => r.Output == "broken");
        Assert.Equal(JobState.Failed, broken.State);
        Assert.Contains("broken.mp4", broken.Reason);
        Assert.Contains("could not be decoded", broken.Reason);
        Assert.Equal(1, broken.Attempts);
        Assert.Equal(JobState.Done, rows.Single(r => r.Output == "fine").State);
        // Not redelivered: the queue is empty, and after more than the retry delay the worker has started it once.
        var q = await c.QueueAsync();
        Assert.Equal(0, await q.DepthAsync());
        await Task.Delay(1500);
        Assert.Single(worker.Stderr.Split('\n'), l => l.Contains($"job {broken.Id}: broken.mp4"));
        Assert.False(Directory.Exists(Path.Combine(c.Results, "broken")));
    }

    [Fact]
    public async Task Workers_ride_out_a_server_restart_on_the_same_store_and_the_queue_completes()
    {
        await using var c = await Cluster.StartAsync();
        for (var i = 0; i < 6; i++) Clips.Make(Path.Combine(c.Inputs, $"c{i}.mp4"), 40);
        await c.WorkerAsync("w1", "--ack-wait 4");
        await c.WorkerAsync("w2", "--ack-wait 4");
        Assert.Equal(0, (await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{c.Inputs}\"")).Code);
        await c.WaitForJobsAsync(r => r.Count(j => j.State == JobState.Done) >= 1);
        await c.Server.StopAsync();
        await Task.Delay(1500); // the outage
        await c.Server.RestartAsync();
        var rows = await c.WaitForJobsAsync(r => r.Count == 6 && r.All(j => j.State == JobState.Done), 240_000);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"c{i}"), ResultFolders(c.Results));
        for (var i = 0; i < 6; i++) Assert.Equal(40, Clips.Frames(Path.Combine(c.Results, $"c{i}", "annotated.mp4")));
        Assert.Empty(PartialLeftovers(c.Results));
        output.WriteLine(c.WorkerLogs);
    }

    [Fact]
    public async Task Without_the_token_the_server_refuses_and_rtmtl_says_so_with_exit_2()
    {
        await using var c = await Cluster.StartAsync();
        foreach (var cmd in new[] { $"worker --nats {c.Server.Url} --out-root \"{c.Results}\"", $"jobs --nats {c.Server.Url}",
            $"worker --nats {c.Server.Url} --token wrong-token --out-root \"{c.Results}\"" })
        {
            var r = await c.RtmtlAsync(cmd);
            Assert.Equal(2, r.Code);
            var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("refused us (authorisation)", line);
            Assert.Contains("--token", line);
        }
    }

    [Fact]
    public async Task Jobs_reaching_outside_the_workers_roots_are_refused_and_submit_refuses_them_first()
    {
        await using var c = await Cluster.StartAsync();
        var secret = Clips.Make(Path.Combine(c.Dir, "private", "secret.mp4"), 3);
        File.CreateSymbolicLink(Path.Combine(c.Inputs, "link.mp4"), secret);
        Clips.Make(Path.Combine(c.Inputs, "ok.mp4"), 3);

        // submit checks on the submitting side too.
        var refused = await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{secret}\"");
        Assert.Equal(2, refused.Code);
        Assert.Contains("not under --input-root", refused.Stderr);

        // A queue written by anyone else: the worker refuses what resolves outside its roots, and never retries it.
        var q = await c.QueueAsync();
        var o = new JobOptions();
        JobSpec Job(string source, string outputName) => new()
        {
            Id = JobSpec.IdFor(source, JobKind.File, outputName, null, o), Source = source,
            Output = outputName, Options = o
        };
        var jobs = new[] { Job("../private/secret.mp4", "escape1"), Job(secret, "escape2"), Job("link.mp4", "escape3"), Job("ok.mp4", "../outside"),
            Job("ok.mp4", "ok") };
        foreach (var j in jobs) await q.PublishAsync(j);
        await c.WorkerAsync("guard");
        var rows = await c.WaitForJobsAsync(r => r.Count == jobs.Length && r.All(j => j.IsFinal));
        foreach (var name in new[] { "escape1", "escape2", "escape3" })
        {
            var row = rows.Single(r => r.Output == name);
            Assert.Equal(JobState.Failed, row.State);
            Assert.Contains("resolves outside the worker's --input-root", row.Reason);
            Assert.Equal(1, row.Attempts);
        }
        Assert.Contains("without '..'", rows.Single(r => r.Output == "../outside").Reason);
        Assert.Equal(JobState.Done, rows.Single(r => r.Output == "ok").State);
        Assert.Equal(["ok"], ResultFolders(c.Results));
        Assert.False(File.Exists(Path.Combine(c.Dir, "outside", "annotated.mp4")));
    }

    [Fact]
    public async Task Ctrl_c_returns_a_long_job_to_the_queue_and_finishes_one_that_is_nearly_done()
    {
        await using var c = await Cluster.StartAsync();
        Clips.Make(Path.Combine(c.Inputs, "long.mp4"), 400);
        var w = await c.WorkerAsync("leaver", "--finish-within 0");
        Assert.Equal(0, (await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{Path.Combine(c.Inputs, "long.mp4")}\"")).Code);
        await c.WaitForJobsAsync(r => r.Count == 1 && r[0].State == JobState.Running && r[0].FramesDone > 0);
        w.Signal(Signals.SIGINT);
        Assert.Equal(0, await w.WaitForExitAsync(60_000));
        Assert.Contains("returning job", w.Stderr);
        Assert.Contains("left cleanly", w.Stderr);
        var back = (await (await c.QueueAsync()).Board.AllAsync()).Single();
        Assert.Equal(JobState.Queued, back.State);
        Assert.Contains("returned to the queue: worker leaver stopped at", back.Reason);
        Assert.Empty(PartialLeftovers(c.Results));
        Assert.Equal(1, await (await c.QueueAsync()).DepthAsync());

        // A patient worker: asked to stop while the job has less than --finish-within left, it finishes it first.
        var patient = await c.WorkerAsync("patient", "--finish-within 600");
        await c.WaitForJobsAsync(r => r[0].State == JobState.Running && r[0].Worker == "patient" && r[0].FramesDone > 0 && r[0].Fps > 0);
        patient.Signal(Signals.SIGTERM);
        Assert.Equal(0, await patient.WaitForExitAsync(120_000));
        Assert.Contains("finishing job", patient.Stderr);
        var done = (await (await c.QueueAsync()).Board.AllAsync()).Single();
        Assert.Equal(JobState.Done, done.State);
        Assert.Equal(400, Clips.Frames(Path.Combine(c.Results, "long", "annotated.mp4")));
    }
}
