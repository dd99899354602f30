using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RealtimeMtl.Cli.Bench;

/// <summary>
/// rtmtl bench --cameras 1,2,4: N synthetic cameras (320x240, replayed frames: 30 rendered per camera, then copies) four
/// ways, each a real rtmtl run in a child process:
///   batched    one engine, all cameras, batches of up to N (the stream muxer), the default model instances;
///   batched, 1 instance   the same with --model-instances 1 (one model run at a time);
///   batch 1    one engine, all cameras, one frame per model run;
///   processes  N separate rtmtl processes, one camera each (what users did before: the peer).
/// Unpaced (as fast as they go) and paced (--realtime at --fps per camera). Figures: aggregate frames/s, per-camera
/// FPS, end-to-end p50/p99 (the worst camera's), mean batch, frames dropped.
/// </summary>
public static class CamerasBench
{
    public sealed record Row(int Cameras, string Mode, bool Paced, double AggregateFps, double PerCameraFps, double E2eP50Ms, double E2eP99Ms,
        double MeanBatch, long Dropped, long Frames);

    /// <param name="source">"synthetic" (replayed synthetic frames, paced and unpaced), or any source spec every camera
    /// reads as a file (unpaced only).</param>
    public static async Task<int> RunAsync(IReadOnlyList<int> counts, int frames, double fps, string model, int threads, string? jsonPath,
        TextWriter output, TextWriter errors, CancellationToken ct, string source = "synthetic", int repeat = 1)
    {
        var rows = new List<Row>();
        var synthetic = source == "synthetic";
        foreach (var paced in synthetic ? new[] { false, true } : [false])
            foreach (var n in counts)
            {
                var cams = Enumerable.Range(0, n).Select(i => synthetic
                    ? $"cam{i}=synthetic:seed={i + 1},frames={frames},size=320x240,fps={fps.ToString(CultureInfo.InvariantCulture)},cycle=30"
                    : $"cam{i}={source}").ToList();
                var common = $"--model \"{model}\" --threads {threads} --quiet --stats-json " +
                    $"-{(paced ? " --realtime" : "")}{(synthetic ? "" : $" --max-frames {frames}")}";
                // Every way once per trial, in turn, so that a slow spell of the machine falls on all of them alike.
                var trials = new List<List<Row>>();
                for (var t = 0; t < repeat; t++)
                {
                    errors.WriteLine($"bench: {n} camera(s), " +
                        $"{(paced ? $"paced at {fps:0.#} FPS each" : "unpaced")}{(repeat > 1 ? $", trial {t + 1} of {repeat}" : "")} ...");
                    var trial = new List<Row> { FromEngine(n, "batched", paced, await RunOneAsync(string.Join(' ', cams.Select(c => $"--source {c}"))
                        + " " + common, ct)) };
                    if (n > 1)
                    {
                        // The default overlaps two model runs on a CPU of 2 or more cores; this way shows what that gives.
                        trial.Add(FromEngine(n, "batched, 1 instance", paced, await RunOneAsync(string.Join(' ', cams.Select(c => $"--source {c}"))
                            + " --model-instances 1 " + common, ct)));
                        trial.Add(FromEngine(n, "batch 1", paced, await RunOneAsync(string.Join(' ', cams.Select(c => $"--source {c}"))
                            + " --batch 1 " + common, ct)));
                        var each = await Task.WhenAll(cams.Select(c => RunOneAsync($"--source {c} {common}", ct)));
                        trial.Add(FromProcesses(n, paced, each));
                    }
                    trials.Add(trial);
                }
                // Per way, the trial of median frames/s (its latency and drops with it).
                for (var w = 0; w < trials[0].Count; w++)
                    rows.Add(trials.Select(t => t[w]).OrderBy(r => r.AggregateFps).ElementAt(repeat / 2));
            }
        output.WriteLine(Report(rows, frames, fps, source, repeat));
        if (jsonPath is not null)
        {
            var text = JsonSerializer.Serialize(new { schema_version = 1, frames_per_camera = frames, fps_paced = fps, trials = repeat, rows },
                new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
            if (jsonPath == "-") output.WriteLine(text);
            else RealtimeMtl.Common.Files.AtomicFile.Write(jsonPath, text);
        }
        return 0;
    }

    private static async Task<JsonElement> RunOneAsync(string args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "rtmtl.dll")}\" run {args}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var text = await stdout;
        if (p.ExitCode != 0) throw new InvalidOperationException($"rtmtl run {args} exited {p.ExitCode}: {(await stderr).Trim()}");
        return JsonDocument.Parse(text[text.IndexOf('{')..]).RootElement.Clone();
    }

    private static double E2e(JsonElement summary, string p) =>
        summary.GetProperty("stages").TryGetProperty("end-to-end", out var e) ? e.GetProperty(p).GetDouble() : double.NaN;

    private static Row FromEngine(int n, string mode, bool paced, JsonElement s)
    {
        var cams = s.TryGetProperty("cameras", out var list) ? list.EnumerateArray().ToList() : [s];
        var seconds = s.GetProperty("seconds").GetDouble();
        var frames = s.GetProperty("frames").GetInt64();
        var mean = s.TryGetProperty("batching", out var b) ? b.GetProperty("mean_batch").GetDouble() : 1.0;
        return new Row(n, mode, paced, frames / seconds, cams.Average(c => c.GetProperty("fps").GetDouble()),
            cams.Max(c => E2e(c, "p50")), cams.Max(c => E2e(c, "p99")), mean, cams.Sum(c => c.GetProperty("dropped_at_source").GetInt64()), frames);
    }

    private static Row FromProcesses(int n, bool paced, JsonElement[] each)
    {
        var frames = each.Sum(s => s.GetProperty("frames").GetInt64());
        return new Row(n, $"{n} processes", paced, frames / each.Max(s => s.GetProperty("seconds").GetDouble()), each.Average(s
            => s.GetProperty("fps").GetDouble()),
            each.Max(s => E2e(s, "p50")), each.Max(s => E2e(s, "p99")), 1.0, each.Sum(s => s.GetProperty("dropped_at_source").GetInt64()), frames);
    }

    public static string Report(IReadOnlyList<Row> rows, int frames, double fps, string source = "synthetic", int repeat = 1)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(source == "synthetic"
            ? string.Create(c, $"cameras: {frames} replayed synthetic frames per camera at 320x240 (30 rendered, then copies); paced runs at " +
                $"{fps:0.#} FPS per camera (--realtime){(repeat > 1 ? $"; each row the median of {repeat} trials" : "")}")
            : string.Create(c, $"cameras: {frames} frames per camera, each camera reading {source}"));
        sb.AppendLine("| cameras | way | paced | aggregate frames/s | per-camera FPS | end-to-end p50 ms | end-to-end p99 ms | mean batch | " +
            "dropped | vs 1 camera | vs processes |");
        sb.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var single = rows.FirstOrDefault(x => x.Cameras == 1 && x.Paced == r.Paced)?.AggregateFps;
            var procs = rows.FirstOrDefault(x => x.Cameras == r.Cameras && x.Paced == r.Paced && x.Mode.EndsWith("processes"))?.AggregateFps;
            sb.AppendLine(string.Create(c, $"| {r.Cameras} | {r.Mode} | {(r.Paced ? "yes" : "no")} | {r.AggregateFps:0.0} | {r.PerCameraFps:0.0} | " +
                $"{r.E2eP50Ms:0} | {r.E2eP99Ms:0} | {r.MeanBatch:0.00} | {r.Dropped} | {(single is { } s1 ? $"{r.AggregateFps / s1:0.00}x" : "-")} " +
                    $"| {(procs is { } pr && !r.Mode.EndsWith("processes") ? $"{r.AggregateFps / pr:0.00}x" : "-")} |"));
        }
        return sb.ToString().TrimEnd();
    }
}
