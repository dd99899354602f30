using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Net;
using RealtimeMtl.Distributed.Jobs;
using RealtimeMtl.Feed;
using RealtimeMtl.Tests.Support;
using Xunit.Abstractions;

namespace RealtimeMtl.Distributed.Tests;

/// <summary>Cameras held across machines, results on the bus read by independent clients, results in the object store.</summary>
[Collection(nameof(BusTests))]
public class BusTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_camera_job_moves_to_another_worker_when_its_worker_dies_and_frames_resume_on_the_bus()
    {
        await using var c = await Cluster.StartAsync();
        var workers = new Dictionary<string, Rtmtl>
        {
            ["cam-a"] = await c.WorkerAsync("cam-a", "--ack-wait 3"),
            ["cam-b"] = await c.WorkerAsync("cam-b", "--ack-wait 3"),
        };
        var connection = await c.ConnectionAsync();
        var arrivals = new ConcurrentQueue<(DateTime At, FeedFrame Frame)>();
        using var stop = new CancellationTokenSource();
        var subscribed = new TaskCompletionSource();
        var listener = Task.Run(async () =>
        {
            await using var sub = await connection.SubscribeCoreAsync<byte[]>("rtmtl.frames.yard", cancellationToken: stop.Token);
            subscribed.SetResult();
            try
            {
                await foreach (var m in sub.Msgs.ReadAllAsync(stop.Token)) arrivals.Enqueue((DateTime.UtcNow, FeedFrame.Parser.ParseFrom(m.Data)));
            }
            catch (OperationCanceledException) { }
        });
        await subscribed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var submit = await c.RtmtlAsync($"submit {c.Auth} --source yard=synthetic:seed=2,frames=100000,size=160x120,fps=10");
        Assert.True(submit.Code == 0, submit.Stderr);
        var rows = await c.WaitForJobsAsync(r => r.Count == 1 && r[0].State == JobState.Running && r[0].FramesDone >= 5);
        Assert.Equal(JobKind.Camera, rows[0].Kind);
        var arrivalsBy = DateTime.UtcNow.AddSeconds(60);
        while (arrivals.Count < 5)
        {
            Assert.True(DateTime.UtcNow < arrivalsBy, $"only {arrivals.Count} frames reached the bus subscriber in 60 s");
            await Task.Delay(50);
        }
        var holder = rows[0].Worker!;
        var survivor = workers.Keys.Single(k => k != holder);

        workers[holder].Signal(Signals.SIGKILL);
        var killedAt = DateTime.UtcNow;
        await workers[holder].WaitForExitAsync(10_000);
        var lastBefore = arrivals.Where(a => a.At <= killedAt).Max(a => a.At);

        rows = await c.WaitForJobsAsync(r => r[0].State == JobState.Running && r[0].Worker == survivor && r[0].FramesDone > 0, 60_000);
        Assert.Equal(2, rows[0].Attempts);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!arrivals.Any(a => a.At > killedAt.AddMilliseconds(200)) && DateTime.UtcNow < deadline) await Task.Delay(50);
        var firstAfter = arrivals.Where(a => a.At > killedAt.AddMilliseconds(200)).Min(a => a.At);
        output.WriteLine($"camera take-over: last frame from {holder} to first frame from {survivor}: " +
            $"{(firstAfter - lastBefore).TotalSeconds:0.00} s (ack wait 3 s; redelivered " +
                $"{(rows[0].StartedAt!.Value.UtcDateTime - killedAt).TotalSeconds:0.00} s after the kill)");
        Assert.All(arrivals, a => Assert.Equal("yard", a.Frame.Camera));
        stop.Cancel();
        await listener;
    }

    /// <summary>Starts the shipped node consumer (clients/nats/consume.mjs, --json) and waits until it listens; its JSON lines collect in the
    /// queue.</summary>
    private static async Task<(Process Consumer, ConcurrentQueue<string> Lines)> StartConsumerAsync(Cluster c, string args)
    {
        var script = Path.Combine(Rtmtl.Root, "clients", "nats", "consume.mjs");
        if (!Directory.Exists(Path.Combine(Rtmtl.Root, "clients", "nats", "node_modules", "nats")))
            throw new InvalidOperationException("clients/nats has no node_modules: run 'npm ci' there (./rtmtl test does)");
        var consumer = Process.Start(new ProcessStartInfo("node", $"\"{script}\" --server {c.Server.Url} --token {NatsServer.Token} {args} --json")
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var ready = new TaskCompletionSource();
        var lines = new ConcurrentQueue<string>();
        consumer.ErrorDataReceived += (_, e) => { if (e.Data?.StartsWith("listening on") == true) ready.TrySetResult(); };
        consumer.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } l) lines.Enqueue(l); };
        consumer.BeginErrorReadLine();
        consumer.BeginOutputReadLine();
        Assert.Same(ready.Task, await Task.WhenAny(ready.Task, Task.Delay(30_000)));
        return (consumer, lines);
    }

    [Fact]
    public async Task Run_publish_sends_every_frames_results_that_the_example_node_consumer_decodes()
    {
        await using var c = await Cluster.StartAsync();
        var (consumer, lines) = await StartConsumerAsync(c, "--subject rtmtl.frames.front --max 8");
        using var _ = consumer;

        var run = await c.RtmtlAsync($"run --source synthetic:frames=8,size=160x120 --publish {c.Server.Url} --nats-token {NatsServer.Token} " +
            $"--camera-name front --publish-maps --frame-id front_optical_frame");
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Contains("publishing: rtmtl.frames.front", run.Stderr);
        using var cts = new CancellationTokenSource(30_000);
        await consumer.WaitForExitAsync(cts.Token);
        consumer.WaitForExit();
        Assert.Equal(0, consumer.ExitCode);

        var frames = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        // A synthetic (not live) source: every frame is published, in order.
        Assert.Equal(Enumerable.Range(0, 8), frames.Select(f => f.GetProperty("sequence").GetInt32()));
        Assert.All(frames, f =>
        {
            Assert.Equal("front", f.GetProperty("camera").GetString());
            Assert.Equal("rtmtl.frames.front", f.GetProperty("subject").GetString());
            Assert.Equal("front_optical_frame", f.GetProperty("frame_id").GetString());
            Assert.Equal(160, f.GetProperty("width").GetInt32());
            Assert.True(f.GetProperty("depth_p50_m").GetDouble() > 0);
            Assert.True(f.GetProperty("labels_png_bytes").GetInt32() > 8 && f.GetProperty("depth_png_bytes").GetInt32() > 8);
            var shares = f.GetProperty("classes").EnumerateArray().Sum(x => x.GetProperty("pixel_share").GetDouble());
            Assert.InRange(shares, 0.99, 1.01);
        });
    }

    [Fact]
    public async Task Maps_too_big_for_the_servers_message_limit_are_scaled_to_fit_and_every_frame_arrives_and_is_counted()
    {
        // NATS's default max_payload is 1 MB; a 3000x2000 frame's label and depth maps are more than that.
        await using var c = await Cluster.StartAsync();
        var (consumer, lines) = await StartConsumerAsync(c, "--subject rtmtl.frames.big --max 4");
        using var _ = consumer;
        var run = await c.RtmtlAsync($"run --source synthetic:frames=4,size=3000x2000 --publish {c.Server.Url} --nats-token {NatsServer.Token} "
            + $"--camera-name big --publish-maps");
        Assert.True(run.Code == 0, run.Stderr);
        using var cts = new CancellationTokenSource(60_000);
        await consumer.WaitForExitAsync(cts.Token);
        consumer.WaitForExit();
        Assert.Equal(0, consumer.ExitCode);
        var frames = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(0, 4), frames.Select(f => f.GetProperty("sequence").GetInt32()));
        Assert.All(frames, f => Assert.True(f.GetProperty("labels_png_bytes").GetInt32() > 8 && f.GetProperty("depth_png_bytes").GetInt32() > 8));
        // The run says what went on the bus, and that the maps were scaled to fit.
        Assert.Contains("rtmtl.frames.big: 4 published, 0 lost, 4 with maps scaled down to fit the server's 1024 KiB message limit", run.Stdout);
    }

    [Fact]
    public async Task Several_cameras_publish_each_on_its_own_subject_with_its_own_frame_id()
    {
        await using var c = await Cluster.StartAsync();
        // The independent node consumer listens on every camera's subject (its default, rtmtl.frames.>): 5 + 3 frames.
        var (consumer, lines) = await StartConsumerAsync(c, "--max 8");
        using var _ = consumer;

        var run = await c.RtmtlAsync($"run --source front=synthetic:seed=1,frames=5,size=96x72 --source rear=synthetic:seed=2,frames=3,size=64x48 " +
            $"--publish {c.Server.Url} --nats-token {NatsServer.Token}");
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Contains("publishing: rtmtl.frames.{front,rear}", run.Stderr);
        using var cts = new CancellationTokenSource(30_000);
        await consumer.WaitForExitAsync(cts.Token);
        consumer.WaitForExit();
        Assert.Equal(0, consumer.ExitCode);
        var frames = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var (camera, count, width) in new[] { ("front", 5, 96), ("rear", 3, 64) })
        {
            var mine = frames.Where(f => f.GetProperty("camera").GetString() == camera).ToList();
            Assert.Equal(Enumerable.Range(0, count), mine.Select(f => f.GetProperty("sequence").GetInt32()));
            Assert.All(mine, f =>
            {
                Assert.Equal($"rtmtl.frames.{camera}", f.GetProperty("subject").GetString());
                Assert.Equal($"{camera}_optical_frame", f.GetProperty("frame_id").GetString());
                Assert.Equal(width, f.GetProperty("width").GetInt32());
            });
        }
        // --camera-name names one camera: with several it is refused, naming the fix.
        var refused = await c.RtmtlAsync($"run --source a=synthetic:frames=2 --source b=synthetic:frames=2 --publish {c.Server.Url} --camera-name x");
        Assert.Equal(2, refused.Code);
        Assert.Contains("drop --camera-name", refused.Stderr);
    }

    [Fact]
    public async Task Results_can_go_to_the_object_store_instead_of_a_shared_folder()
    {
        await using var c = await Cluster.StartAsync();
        Clips.Make(Path.Combine(c.Inputs, "clip.mp4"), 7);
        var stage = Path.Combine(c.Dir, "stage");
        var w = Rtmtl.Start($"worker {c.Auth} --input-root \"{c.Inputs}\" --results object-store --out-root \"{stage}\" --name store --threads 1",
            c.Dir);
        await using var _ = w;
        await w.WaitForLineAsync(l => l.StartsWith("worker store: pulling jobs"));
        Assert.Equal(0, (await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{Path.Combine(c.Inputs, "clip.mp4")}\"")).Code);
        var rows = await c.WaitForJobsAsync(r => r.Count == 1 && r[0].IsFinal);
        Assert.Equal(JobState.Done, rows[0].State);
        Assert.Equal("nats-object-store://rtmtl-results-default/clip/", rows[0].Results);

        var store = await (await c.ConnectionAsync()).CreateObjectStoreContext().GetObjectStoreAsync("rtmtl-results-default");
        var video = Path.Combine(c.Dir, "fetched.mp4");
        await File.WriteAllBytesAsync(video, await store.GetBytesAsync("clip/annotated.mp4"));
        Assert.Equal(7, Clips.Frames(video));
        using var stats = JsonDocument.Parse(await store.GetBytesAsync("clip/stats.json"));
        using var marker = JsonDocument.Parse(await store.GetBytesAsync("clip/job.json"));
        Assert.Equal(rows[0].Id, marker.RootElement.GetProperty("id").GetString());
        // Staged files are removed once uploaded.
        Assert.False(Directory.Exists(Path.Combine(stage, "clip")));
    }

    [Fact]
    public async Task A_camera_that_is_down_is_retried_after_the_delay_then_given_up_after_max_deliver()
    {
        await using var c = await Cluster.StartAsync();
        // Nothing listens on port 1: the stream cannot be opened (refused at once).
        var w = await c.WorkerAsync("w1", "--retry-delay 0.5 --max-deliver 3 --concurrency 2");
        Assert.Equal(0, (await c.RtmtlAsync($"submit {c.Auth} --source gate=rtsp://127.0.0.1:1/stream")).Code);
        var rows = await c.WaitForJobsAsync(r => r.Count == 1 && r[0].IsFinal, 120_000);
        Assert.Equal(JobState.Failed, rows[0].State);
        Assert.Equal(3, rows[0].Attempts);
        Assert.StartsWith("gave up after 3 attempts: ", rows[0].Reason);
        Assert.Contains("redelivered in 0.5 s (attempt 1 of 3)", w.Stderr);
        Assert.Contains("(attempt 2 of 3)", w.Stderr);
        Assert.Equal(0, await (await c.QueueAsync()).DepthAsync());
    }

    [Fact]
    public async Task Submit_force_runs_a_done_job_again_and_its_folder_is_replaced_not_duplicated()
    {
        await using var c = await Cluster.StartAsync();
        var clip = Clips.Make(Path.Combine(c.Inputs, "a.mp4"), 4);
        await c.WorkerAsync("w1");
        Assert.Equal(0, (await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{clip}\"")).Code);
        await c.WaitForJobsAsync(r => r.Count == 1 && r[0].State == JobState.Done);
        var again = await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{clip}\" --json");
        using (var doc = JsonDocument.Parse(again.Stdout))
            Assert.Equal("skipped (done)", doc.RootElement.GetProperty("jobs")[0].GetProperty("action").GetString());
        var forced = await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{clip}\" --force");
        Assert.Contains("queued (run 2)", forced.Stdout);
        var rows = await c.WaitForJobsAsync(r => r[0].State == JobState.Done && r[0].Run == 2);
        using var marker = JsonDocument.Parse(File.ReadAllText(Path.Combine(c.Results, "a", "job.json")));
        Assert.Equal(2, marker.RootElement.GetProperty("run").GetInt32());
        Assert.Equal(rows[0].Id, marker.RootElement.GetProperty("id").GetString());
        Assert.Single(Directory.GetDirectories(c.Results), d => !Path.GetFileName(d).StartsWith('.'));
        Assert.Equal(4, Clips.Frames(Path.Combine(c.Results, "a", "annotated.mp4")));
    }

    [Fact]
    public async Task Over_tls_with_the_servers_ca_a_job_runs_and_without_the_ca_the_connection_is_refused()
    {
        await using var c = await Cluster.StartTlsAsync();
        Assert.StartsWith("tls://", c.Server.Url);
        Clips.Make(Path.Combine(c.Inputs, "t.mp4"), 3);
        await c.WorkerAsync("tls-worker");
        Assert.Equal(0, (await c.RtmtlAsync($"submit {c.Auth} --input-root \"{c.Inputs}\" \"{Path.Combine(c.Inputs, "t.mp4")}\"")).Code);
        var rows = await c.WaitForJobsAsync(r => r.Count == 1 && r[0].State == JobState.Done);
        Assert.Equal(3, Clips.Frames(Path.Combine(c.Results, "t", "annotated.mp4")));

        // The same server, without its CA: the certificate is not trusted and rtmtl says so in one line, exit 2.
        var untrusted = await c.RtmtlAsync($"jobs --nats {c.Server.Url} --token {NatsServer.Token}");
        Assert.Equal(2, untrusted.Code);
        Assert.StartsWith("error: the NATS server at tls://", untrusted.Stderr);
        Assert.Contains("TLS certificate we do not trust; give its CA with --tls-ca FILE", untrusted.Stderr);
        // And a plain nats:// client is not served by a TLS-only server.
        var plain = await c.RtmtlAsync($"jobs --nats nats://127.0.0.1:{c.Server.Port} --token {NatsServer.Token}");
        Assert.Equal(2, plain.Code);
    }
}
