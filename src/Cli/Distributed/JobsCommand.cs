using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Distributed.Jobs;

namespace RealtimeMtl.Cli.Distributed;

internal static class JobsCommand
{
    public static Command Build()
    {
        var nats = new NatsOptionSet();
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh every second until every job is done or failed (Ctrl+C leaves)" };
        var json = new Option<bool>("--json") { Description = "Print the job table as JSON (schema_version, queue, depth, jobs)" };
        var cmd = new Command("jobs", """
            Show the jobs of a queue from its key-value table: queued, running, retrying, done or failed, with the worker,
            progress, frames per second, time left and the reason a job failed.
            Examples:
              ./rtmtl jobs --nats nats://10.0.0.5:4222 --token s3cret
              ./rtmtl jobs --nats nats://10.0.0.5:4222 --token s3cret --watch
              ./rtmtl jobs --nats nats://10.0.0.5:4222 --token s3cret --json | jq '.jobs[] | select(.state=="failed")'
            """);
        nats.AddTo(cmd);
        cmd.Options.Add(watch);
        cmd.Options.Add(json);
        cmd.SetAction(async (r, ct) =>
        {
            RealtimeMtl.Distributed.Nats.NatsEndpoint endpoint;
            string queueName;
            try { (endpoint, queueName) = nats.Read(r); }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            await using var connection = await WorkerCommand.ConnectOrNull(endpoint, "rtmtl-jobs", Console.Error, ct);
            if (connection is null) return 2;
            var queue = await WorkQueue.OpenAsync(connection, queueName, null, ct);
            string? last = null;
            while (true)
            {
                List<JobStatus> rows;
                try { rows = await queue.Board.AllAsync(ct); }
                catch (TimeoutException e)
                {
                    // One listing that did not end: asked again once, then one clear line (exit 3: the server, not the input).
                    try { rows = await queue.Board.AllAsync(ct); }
                    catch (TimeoutException) { Console.Error.WriteLine($"error: {e.Message}"); return 3; }
                }
                var depth = await queue.DepthAsync(ct);
                var text = r.GetValue(json)
                    ? JsonSerializer.Serialize(new { schema_version = 1, queue = queueName, depth, jobs = rows }, JobJson.Indented)
                    : Table(rows, queueName, depth);
                if (text != last)
                {
                    if (r.GetValue(watch) && !Console.IsOutputRedirected) Console.Write("\u001b[H\u001b[2J");
                    Console.WriteLine(text);
                    last = text;
                }
                if (!r.GetValue(watch) || (rows.Count > 0 && rows.All(x => x.IsFinal))) return 0;
                try { await Task.Delay(1000, ct); } catch (OperationCanceledException) { return 0; }
            }
        });
        return cmd;
    }

    public static string Table(IReadOnlyList<JobStatus> rows, string queue, long depth)
    {
        var w = new StringWriter();
        w.WriteLine($"{"ID",-16}  {"STATE",-8}  {"NAME",-24}  {"WORKER",-20}  {"PROGRESS",-16}  {"FPS",6}  {"ETA",7}  NOTE");
        foreach (var s in rows)
        {
            var progress = s.FramesTotal is { } t && t > 0 ? $"{s.FramesDone}/{t} ({100.0 * s.FramesDone / t:0}%)" : s.FramesDone > 0
                ? $"{s.FramesDone}" : "";
            var fps = s.Fps is { } f && double.IsFinite(f) && s.State == JobState.Running ? f.ToString("0.0", CultureInfo.InvariantCulture) : "";
            var eta = s.EtaSeconds is { } e ? TimeSpan.FromSeconds(e).ToString(e >= 3600 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture)
                : "";
            var note = s.State is JobState.Failed or JobState.Retrying or JobState.Queued ? s.Reason ?? "" : s.State == JobState.Done ? s.Results
                ?? "" : s.Kind == JobKind.Camera ? "camera" : "";
            w.WriteLine($"{s.Id,-16}  {s.State.ToString().ToLowerInvariant(),-8}  {Clip(s.Output, 24),-24}  {Clip(s.Worker ?? "", 20),-20}  " +
                $"{progress,-16}  {fps,6}  {eta,7}  {note}");
        }
        var counts = string.Join(", ", rows.GroupBy(x => x.State).OrderBy(g => g.Key).Select(g
            => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
        w.Write($"{rows.Count} jobs on queue '{queue}'{(rows.Count > 0 ? $": {counts}" : "")}; {depth} waiting or unacknowledged on the stream");
        return w.ToString();
    }

    private static string Clip(string s, int n) => s.Length <= n ? s : "…" + s[^(n - 1)..];
}
