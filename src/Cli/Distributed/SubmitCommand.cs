using System.CommandLine;
using System.Text.Json;
using RealtimeMtl.Distributed.Jobs;
using RealtimeMtl.Distributed.Worker;

namespace RealtimeMtl.Cli.Distributed;

internal static class SubmitCommand
{
    private static readonly string[] VideoExtensions = [".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".ts"];

    public static Command Build()
    {
        var nats = new NatsOptionSet();
        var files = new Argument<string[]>("files")
        {
            Description = "Video files or folders of videos (searched recursively), under --input-root",
            Arity = ArgumentArity.ZeroOrMore
        };
        var sources = new Option<string[]>("--source")
        {
            Description =
            "A live camera or stream, optionally named: --source front=rtsp://10.0.0.7/stream1 (held by one worker while it runs)",
            AllowMultipleArgumentsPerToken = false
        };
        var inputRoot = new Option<string?>("--input-root")
        {
            Description =
            "The shared folder the workers' --input-root points at; files are given to them relative to it (default: the current folder)"
        };
        var model = new Option<string?>("--model", "-m") { Description = "ONNX model under --input-root (default: the workers' shipped model)" };
        var layout = new Option<string>("--layout") { Description = "overlay | side | quad", DefaultValueFactory = _ => "side" };
        var record = new Option<string>("--record")
        {
            Description =
            "auto (files yes, cameras no), yes or no: write annotated.mp4 (cameras: a segment per worker that holds them)", DefaultValueFactory = _
                => "auto"
        };
        var saveRaw = new Option<bool>("--save-raw") { Description = "Also write per-frame labels, depth and JSON (raw/)" };
        var smooth = new Option<bool>("--smooth") { Description = "Temporal filtering for steady cameras" };
        var maxFrames = new Option<long?>("--max-frames") { Description = "Stop each job after N frames" };
        var depthRange = new Option<string?>("--depth-range") { Description = "'min,max' in metres, 'auto' or 'model'" };
        var realtime = new Option<bool>("--realtime") { Description = "Pace sources at their native rate and treat them as live" };
        var publishMaps = new Option<bool>("--publish-maps")
        {
            Description =
            "Publish labels (PNG) and depth (PNG16) with each frame's results on rtmtl.frames.{name}"
        };
        var force = new Option<bool>("--force") { Description = "Run jobs again that are already done or failed (a new run of the same job id)" };
        var json = new Option<bool>("--json") { Description = "Print the jobs as JSON (id, source, output, action)" };
        var cmd = new Command("submit", """
            Put jobs on a NATS JetStream work queue for `rtmtl worker`s: one job per video file, one per live source.
            A job's id is a digest of its source and options: submitting the same work again is skipped (unless --force).
            Results appear as OUT_ROOT/{name}/annotated.mp4 and stats.json on the workers' --out-root, {name} being the
            file's path under --input-root without its extension (or the camera's name).
            Examples:
              ./rtmtl submit --nats nats://10.0.0.5:4222 --token s3cret --input-root /mnt/shared/clips /mnt/shared/clips/2026-11/
              ./rtmtl submit --nats nats://10.0.0.5:4222 --token s3cret clip0.mp4 clip1.mp4 --layout overlay --max-frames 900
              ./rtmtl submit --nats nats://10.0.0.5:4222 --token s3cret --source gate=rtsp://10.0.0.7/stream1 --source dock=rtsp://10.0.0.8/stream1
              ./rtmtl jobs --nats nats://10.0.0.5:4222 --token s3cret --watch
            """);
        nats.AddTo(cmd);
        cmd.Arguments.Add(files);
        foreach (var o in new Option[] { sources, inputRoot, model, layout, record, saveRaw, smooth, maxFrames, depthRange, realtime, publishMaps,
            force, json }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            List<JobSpec> jobs;
            RealtimeMtl.Distributed.Nats.NatsEndpoint endpoint;
            string queueName;
            try
            {
                (endpoint, queueName) = nats.Read(r);
                var root = Path.GetFullPath(r.GetValue(inputRoot) ?? Directory.GetCurrentDirectory());
                if (!Directory.Exists(root)) throw new ArgumentException($"--input-root '{root}' is not a folder");
                root = SafePaths.Canonical(root)!;
                var recordMode = r.GetValue(record) is "auto" or "yes" or "no" ? r.GetValue(record)!
                    : throw new ArgumentException($"--record '{r.GetValue(record)}' must be auto, yes or no");
                string? modelRel = r.GetValue(model) is { } m ? Relative(root, m, "--model") : null;
                JobOptions Options(JobKind kind) => new()
                {
                    Layout = r.GetValue(layout)!, Record = recordMode == "yes" || (recordMode == "auto" && kind == JobKind.File),
                    SaveRaw = r.GetValue(saveRaw),
                    Smooth = r.GetValue(smooth), MaxFrames = r.GetValue(maxFrames), DepthRange = r.GetValue(depthRange),
                    Realtime = r.GetValue(realtime),
                    PublishMaps = r.GetValue(publishMaps),
                };
                // The job's options through rtmtl run's own checks (as the worker will read them): refused here, in the same words.
                JobArguments.Read("synthetic:frames=1", Options(JobKind.File));
                jobs = [];
                foreach (var file in Expand(r.GetValue(files) ?? []))
                {
                    var rel = Relative(root, file, "file");
                    var output = Path.ChangeExtension(rel, null).Replace('\\', '/');
                    var o = Options(JobKind.File);
                    jobs.Add(new JobSpec
                    {
                        Id = JobSpec.IdFor(rel, JobKind.File, output, modelRel, o), Source = rel, Kind = JobKind.File,
                        Output = output, Model = modelRel, Options = o
                    });
                }
                var index = 0;
                foreach (var spec in r.GetValue(sources) ?? [])
                {
                    var (camName, url) = CameraSpec(spec, index++);
                    var o = Options(JobKind.Camera) with { Realtime = r.GetValue(realtime) || url.StartsWith("synthetic", StringComparison.Ordinal) };
                    jobs.Add(new JobSpec
                    {
                        Id = JobSpec.IdFor(url, JobKind.Camera, camName, modelRel, o), Source = url, Kind = JobKind.Camera,
                        Output = camName, Model = modelRel, Options = o
                    });
                }
                if (jobs.Count == 0) throw new ArgumentException("nothing to submit: give video files or folders, or --source URL for a live camera");
                var dup = jobs.GroupBy(j => j.Output).FirstOrDefault(g => g.Count() > 1);
                if (dup is not null) throw new ArgumentException($"two jobs would write the same result folder '{dup.Key}'; name them apart " +
                    $"(--source NAME=URL) or submit them from distinct folders");
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            await using var connection = await WorkerCommand.ConnectOrNull(endpoint, "rtmtl-submit", Console.Error, ct);
            if (connection is null) return 2;
            var queue = await WorkQueue.OpenAsync(connection, queueName, null, ct);
            var rows = new List<object>();
            int queued = 0, skipped = 0;
            foreach (var job in jobs)
            {
                var existing = await queue.Board.GetAsync(job.Id, ct);
                string action;
                var toQueue = job;
                if (existing is not null && !r.GetValue(force))
                {
                    action = existing.State switch
                    {
                        JobState.Done => "skipped (done)",
                        JobState.Failed => "skipped (failed)",
                        _ => $"skipped ({existing.State.ToString().ToLowerInvariant()})"
                    };
                    skipped++;
                }
                else
                {
                    if (existing is not null) toQueue = job with { Run = existing.Run + 1 };
                    await queue.PublishAsync(toQueue, ct);
                    action = existing is null ? "queued" : $"queued (run {toQueue.Run})";
                    queued++;
                }
                rows.Add(new { id = job.Id, source = job.Source, output = job.Output, kind = job.Kind.ToString().ToLowerInvariant(), action });
                if (!r.GetValue(json)) Console.WriteLine($"{job.Id}  {action,-17} {job.Source} -> {job.Output}");
            }
            if (r.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(new { schema_version = 1, queue = queueName, jobs = rows },
                JobJson.Indented));
            else Console.WriteLine($"{queued} queued, {skipped} " +
                $"skipped{(skipped > 0 ? " (already queued, done or failed; --force runs them again)" : "")} on queue '{queueName}'; follow with " +
                    $"./rtmtl jobs --nats {endpoint.Display} --watch");
            return 0;
        });
        return cmd;
    }

    private static IEnumerable<string> Expand(IEnumerable<string> items)
    {
        foreach (var item in items)
        {
            if (Directory.Exists(item))
            {
                var found = Directory.EnumerateFiles(item, "*", SearchOption.AllDirectories)
                    .Where(f => VideoExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new ArgumentException($"folder '{item}' holds no videos ({string.Join(", ", VideoExtensions)})");
                foreach (var f in found) yield return f;
            }
            else if (File.Exists(item)) yield return item;
            else if (item.Contains("://", StringComparison.Ordinal)) throw new ArgumentException($"'{item}' is a URL: give live sources with " +
                $"--source {item}");
            else throw new ArgumentException($"'{item}' does not exist; give video files or folders under --input-root");
        }
    }

    /// <summary>The path of <paramref name="path"/> relative to the input root, refusing anything outside it.</summary>
    private static string Relative(string root, string path, string what)
    {
        var canonical = SafePaths.Canonical(Path.GetFullPath(path)) ?? throw new ArgumentException($"{what} '{path}' does not exist");
        if (!SafePaths.IsUnder(canonical, root) || canonical == root)
            throw new ArgumentException($"{what} '{path}' is not under --input-root ({root}); workers can only read inputs under their " +
                $"--input-root. Pass --input-root (the shared folder)");
        return Path.GetRelativePath(root, canonical).Replace('\\', '/');
    }

    private static (string Name, string Url) CameraSpec(string spec, int index)
    {
        var eq = spec.IndexOf('=');
        var colon = spec.IndexOf(':');
        string name, url;
        if (eq > 0 && (colon < 0 || eq < colon)) (name, url) = (spec[..eq], spec[(eq + 1)..]);
        else (name, url) = ($"cam{index}", spec);
        if (!(url.Contains("://", StringComparison.Ordinal) || url.StartsWith("synthetic", StringComparison.Ordinal)))
            throw new ArgumentException($"--source '{spec}' must be a stream URL (rtsp://, http://, udp://, srt://, ...) or synthetic:...; video " +
                $"files are given as arguments");
        if (name.Length == 0 || name.Any(c => !(char.IsLetterOrDigit(c) || c is '-' or '_')))
            throw new ArgumentException($"--source name '{name}' must be letters, digits, '-' or '_' (it names the result folder and the bus " +
                $"subject)");
        return (name, url);
    }
}
