using System.Globalization;
using System.Text;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Cli.Composition;

/// <summary>A run's summary as the text every command prints at the end (the JSON is <see cref="RunSummary.ToJson"/>).</summary>
public static class RunReport
{
    /// <summary>The summary printed at the end of a run: one camera's lines, or the totals and a line per camera.</summary>
    public static string ToText(this RunSummary s)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        if (s.Cameras is { } cams && s.Batching is { } b)
        {
            sb.AppendLine(string.Create(c, $"source  {s.Source}"));
            sb.AppendLine(string.Create(c, $"model   {s.Model} on {s.Device}: {b.ModelRuns} runs, mean batch {b.MeanBatch:0.00} (runs by size: " +
                $"{string.Join(", ", b.RunsByBatchSize.Select(kv => $"{kv.Key}: {kv.Value}"))}), batch timeout {b.TimeoutMs:0.#} " +
                    $"ms{(b.Instances > 1 ? $", {b.Instances} instances running at once" : "")}"));
            sb.AppendLine(string.Create(c, $"engine  {s.Frames} frames over all cameras, {(s.Fps is { } f ? $"{f:0.0} FPS" : "-")} over " +
                $"{s.Seconds:0.00} s; model {b.ModelMsPerBatchP50:0.0} ms per batch (p50), {b.ModelMsPerFrame:0.0} ms per " +
                    $"frame{(s.Interrupted ? " (interrupted)" : "")}"));
            if (b.SyncMs is { } sync)
                sb.AppendLine(string.Create(c, $"sets    {b.Sets} synchronised sets (stamps within {sync:0.#} ms); frames that went on without a " +
                    $"complete set: {string.Join(", ", b.IncompleteSets!.Select(kv => $"{kv.Key} {kv.Value}"))}"));
            if (s.WarmUpMs is { } wu) sb.AppendLine(string.Create(c,
                $"warm-up {wu:0} ms over {s.WarmUpRuns} runs before the sources opened (in no other figure)"));
            foreach (var cam in cams)
            {
                var ce = cam.Stages.GetValueOrDefault("end-to-end");
                sb.AppendLine(string.Create(c, $"camera  {cam.Camera}: {cam.Frames} frames, {cam.DroppedAtSource} dropped, " +
                    $"{(cam.Fps is { } cf ? $"{cf:0.0} FPS" : "- FPS")}, end-to-end p50 {ce?.P50 ?? double.NaN:0.0} / p95 " +
                        $"{ce?.P95 ?? double.NaN:0.0} / p99 {ce?.P99 ?? double.NaN:0.0} ms ({cam.Source})"));
                foreach (var (sink, n) in cam.SinkErrors) sb.AppendLine(string.Create(c,
                    $"fault   camera {cam.Camera} sink {sink}: {n} error(s); the other sinks kept running"));
                if (cam.SourceError is not null) sb.AppendLine($"camera error: {cam.Camera}: {cam.SourceError} (the other cameras went on)");
                if (cam.Recording is { } cr)
                    sb.AppendLine(string.Create(c, $"record  {cr.Path}: {cr.FramesInFile} frames at {cr.Fps:0.##} FPS ({cr.Codec}); " +
                        $"{cr.FramesWritten} processed frames written, {cr.FramesRepeated} repeated, {cr.FramesSkipped} skipped"));
            }
            if (s.StageError is not null) sb.AppendLine($"stage error: {s.StageError}; outputs were finalised");
            foreach (var note in s.Notes) sb.AppendLine(note);
            AppendOutputs(s, sb);
            return sb.ToString().TrimEnd();
        }
        sb.AppendLine(string.Create(c, $"source  {s.Source}"));
        sb.AppendLine(string.Create(c, $"model   {s.Model} on {s.Device}"));
        sb.AppendLine(string.Create(c, $"frames  {s.Frames} processed, {s.DroppedAtSource} dropped at the " +
            $"source{(s.DroppedAtViewers > 0 ? $", {s.DroppedAtViewers} skipped by viewers" : "")}" +
            $"{(s.ViewersEvicted > 0 ? $", {s.ViewersEvicted} stalled viewer(s) evicted" : "")}{(s.Interrupted ? " (interrupted)" : "")}"));
        sb.AppendLine(s.Fps is { } fps ? string.Create(c, $"rate    {fps:0.0} FPS over {s.Seconds:0.00} s") : string.Create(c,
            $"rate    - (a rate needs two frames) over {s.Seconds:0.00} s"));
        if (s.WarmUpMs is { } w) sb.AppendLine(string.Create(c,
            $"warm-up {w:0} ms over {s.WarmUpRuns} runs before the source opened (in no other figure)"));
        if (s.Stages.TryGetValue("end-to-end", out var e2e))
            sb.AppendLine(string.Create(c, $"latency end-to-end p50 {e2e.P50:0.0} ms, p95 {e2e.P95:0.0} ms, p99 {e2e.P99:0.0} ms"));
        var parts = s.Stages.Where(kv => kv.Key != "end-to-end").Select(kv => string.Create(c, $"{kv.Key} {kv.Value.P50:0.0}"));
        sb.AppendLine("stages  p50 ms: " + string.Join(", ", parts));
        if (s.FramesNotDrawn > 0) sb.AppendLine(string.Create(c,
            $"render  {s.FramesNotDrawn} of {s.Frames} frames not drawn: no output showed them (no recording, window or viewer)"));
        if (s.MeanIoU is not null || s.DepthRmse is not null)
        {
            var q = new List<string>();
            if (s.MeanIoU is { } m) q.Add(string.Create(c, $"mIoU {m * 100:0.00} %, pixel acc {s.PixelAccuracy * 100:0.00} %"));
            if (s.DepthRmse is { } r) q.Add(string.Create(c,
                $"depth RMSE {r:0.000} m, abs rel {s.DepthAbsRel:0.000}, delta<1.25 {s.DepthDelta1 * 100:0.0} %"));
            sb.AppendLine("quality " + string.Join("; ", q) + " (vs the source's ground truth)");
        }
        if (s.Resources.Count >= 3)
        {
            // From the first sample after warm-up (10 % of the run) to the end.
            var start = s.Resources[Math.Min(s.Resources.Count - 2, Math.Max(1, s.Resources.Count / 10))];
            var end = s.Resources[^1];
            sb.AppendLine(string.Create(c, $"memory  working set {start.WorkingSetMiB:0} MiB at frame {start.Frame} -> {end.WorkingSetMiB:0} MiB " +
                $"at the end (max {s.Resources.Max(r => r.WorkingSetMiB):0}); handles {start.Handles} -> {end.Handles}; live frames " +
                    $"{end.LivePackets}"));
        }
        foreach (var (sink, n) in s.SinkErrors) sb.AppendLine(string.Create(c, $"fault   sink {sink}: {n} error(s); the other sinks kept running"));
        if (s.SourceError is not null) sb.AppendLine($"source error: {s.SourceError}");
        if (s.StageError is not null) sb.AppendLine($"stage error: {s.StageError}; outputs were finalised");
        if (s.Recording is { } rec)
            sb.AppendLine(string.Create(c, $"record  {rec.Path}: {rec.FramesInFile} frames at {rec.Fps:0.##} FPS " +
                $"({rec.FramesInFile / rec.Fps:0.00} s, {rec.Codec}); {rec.FramesWritten} processed frames written, {rec.FramesRepeated} repeated, " +
                    $"{rec.FramesSkipped} skipped{(rec.FramesRescaled > 0 ? $", {rec.FramesRescaled} of another size scaled" : "")}"));
        foreach (var note in s.Notes) sb.AppendLine(note);
        AppendOutputs(s, sb);
        return sb.ToString().TrimEnd();
    }

    private static void AppendOutputs(RunSummary s, StringBuilder sb)
    {
        if (s.Outputs.Count > 0) sb.AppendLine("outputs " + string.Join(", ", s.Outputs.Select(kv => $"{kv.Key} {kv.Value}")));
    }
}
