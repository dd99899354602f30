using System.Globalization;
using System.Text;
using System.Text.Json;
using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>The figures of one run, as text (printed at exit) and JSON (--stats-json).</summary>
public sealed record RunSummary
{
    /// <summary>The layout of the JSON: 2 is snake_case names with this field first (1, before it existed, was PascalCase).</summary>
    public const int JsonSchemaVersion = 2;

    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public int SchemaVersion => JsonSchemaVersion;

    public required string Source { get; init; }
    public required string Model { get; init; }
    public required string Device { get; init; }
    public long Frames { get; init; }
    public long FramesIn { get; init; }
    public long DroppedAtSource { get; init; }
    public long DroppedAtViewers { get; init; }
    public long ViewersEvicted { get; init; }
    /// <summary>Frames per second between the first and last output frame: the frames after the first over the time from
    /// the first frame out to the last, of one camera or of all cameras together; null when fewer than two came out.</summary>
    public double? Fps { get; init; }
    /// <summary>Stopwatch ticks of the first and last frame out (for <see cref="Combine"/>); not written out.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public long FirstOutTicks { get; init; }
    [System.Text.Json.Serialization.JsonIgnore] public long LastOutTicks { get; init; }
    public double Seconds { get; init; }
    /// <summary>Model warm-up before the source opened (not part of any other figure).</summary>
    public double? WarmUpMs { get; init; }
    public int? WarmUpRuns { get; init; }
    public required Dictionary<string, StageFigures> Stages { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("mean_iou")]
    public double? MeanIoU { get; init; }
    public double? PixelAccuracy { get; init; }
    public double? DepthRmse { get; init; }
    public double? DepthAbsRel { get; init; }
    public double? DepthDelta1 { get; init; }
    public Dictionary<string, long> SinkErrors { get; init; } = [];
    public string? SourceError { get; init; }
    /// <summary>A stage (inference) that failed and ended the run; the sinks were finalised.</summary>
    public string? StageError { get; init; }
    public bool Interrupted { get; init; }
    public List<string> Notes { get; init; } = [];

    /// <summary>Frames not drawn because no output showed the picture (the render stage then only hands them on).</summary>
    public long FramesNotDrawn { get; init; }
    public List<ResourceSample> Resources { get; init; } = [];

    public sealed record StageFigures(double P50, double P95, double P99, double Mean, long Count);

    /// <summary>What the recording holds: frames in the file at its rate; processed frames written, slots repeated, frames skipped.</summary>
    public sealed record RecordingFigures(string Path, string Codec, double Fps, long FramesInFile, long FramesWritten, long FramesRepeated,
        long FramesSkipped, double CapturedSeconds)
    {
        /// <summary>Frames of another size than the first, scaled to the recording's (absent from the JSON when none).</summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
        public long FramesRescaled { get; init; }
    }

    public RecordingFigures? Recording { get; init; }

    /// <summary>Every file and folder the run wrote, by what it is (recording, mcap, raw, stats_json, args_json, run_folder, ...).</summary>
    public Dictionary<string, string> Outputs { get; init; } = [];

    /// <summary>The camera's name, in a run of several cameras (absent from a single camera's JSON).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Camera { get; init; }

    /// <summary>Each camera's own summary, in a run of several cameras.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public List<RunSummary>? Cameras { get; init; }

    /// <summary>With --publish: the messages that went on the bus and those that did not (a server away, a message over its limit).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public BusFigures? Bus { get; init; }

    public sealed record BusFigures(long Published, long Lost);

    /// <summary>The stream muxer's figures, in a run of several cameras.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public BatchFigures? Batching { get; init; }

    /// <summary>Model runs, frames per run (mean and by size), model time per run and per frame.</summary>
    public sealed record BatchFigures(long ModelRuns, double MeanBatch, Dictionary<string, long> RunsByBatchSize, double ModelMsPerBatchP50,
        double ModelMsPerBatchMean, double ModelMsPerFrame, double TimeoutMs)
    {
        /// <summary>With --sync-ms: its window, the sets run together, and per camera the frames that went on without a complete set.</summary>
        public double? SyncMs { get; init; }
        public long? Sets { get; init; }
        public Dictionary<string, long>? IncompleteSets { get; init; }
        /// <summary>Model instances whose runs may overlap (--model-instances); 1 = one run at a time.</summary>
        public int Instances { get; init; } = 1;
    }

    /// <summary>The run of several cameras as one: totals at the top, each camera in <see cref="Cameras"/>.</summary>
    public static RunSummary Combine(List<RunSummary> cameras, BatchStats batches, string? stageError, TimeSpan timeout, TimeSpan? sync = null,
        int instances = 1)
    {
        var seconds = cameras.Max(c => c.Seconds);
        var frames = cameras.Sum(c => c.Frames);
        Span<double> p = stackalloc double[1];
        if (batches.ModelPerBatch.Count > 0) batches.ModelPerBatch.Percentiles([50], p); else p[0] = double.NaN;
        var hist = batches.Histogram();
        var stages = new Dictionary<string, StageFigures>();
        if (batches.ModelPerBatch.Count > 0)
        {
            Span<double> q = stackalloc double[3];
            batches.ModelPerBatch.Percentiles([50, 95, 99], q);
            stages["model per batch"] = new StageFigures(q[0], q[1], q[2], batches.ModelPerBatch.Mean, batches.ModelPerBatch.Count);
        }
        return new RunSummary
        {
            Source = $"{cameras.Count} cameras: " + string.Join(", ", cameras.Select(c => c.Camera)),
            Model = cameras[0].Model, Device = cameras[0].Device,
            Frames = frames, FramesIn = cameras.Sum(c => c.FramesIn), FramesNotDrawn = cameras.Sum(c => c.FramesNotDrawn),
            DroppedAtSource = cameras.Sum(c => c.DroppedAtSource),
            DroppedAtViewers = cameras.Sum(c => c.DroppedAtViewers), ViewersEvicted = cameras.Sum(c => c.ViewersEvicted),
            Fps = FpsOver(cameras, frames), Seconds = seconds,
            FirstOutTicks = cameras.Where(c => c.Frames > 0).Select(c => c.FirstOutTicks).DefaultIfEmpty().Min(),
            LastOutTicks = cameras.Where(c => c.Frames > 0).Select(c => c.LastOutTicks).DefaultIfEmpty().Max(),
            Stages = stages, StageError = stageError ?? cameras.Select(c => c.StageError).FirstOrDefault(e => e is not null),
            Interrupted = cameras.Any(c => c.Interrupted),
            SourceError = cameras.Any(c => c.SourceError is not null)
                ? string.Join("; ", cameras.Where(c => c.SourceError is not null).Select(c => $"camera {c.Camera}: {c.SourceError}")) : null,
            Cameras = cameras,
            Batching = new BatchFigures(batches.Runs, batches.MeanBatch,
                Enumerable.Range(1, hist.Length - 1).Where(i => hist[i] > 0).ToDictionary(i => i.ToString(CultureInfo.InvariantCulture),
                    i => hist[i]),
                p[0], batches.ModelPerBatch.Mean, batches.Frames == 0 ? double.NaN : batches.ModelPerBatch.Mean * batches.Runs / batches.Frames,
                    timeout.TotalMilliseconds)
            {
                SyncMs = sync?.TotalMilliseconds, Sets = sync is null ? null : batches.Sets, Instances = Math.Max(1, instances),
                IncompleteSets = sync is null ? null : cameras.ToDictionary(c => c.Camera!, c => batches.IncompleteSets.GetValueOrDefault(c.Camera!)),
            },
        };
    }

    /// <summary>One definition for one camera and several: frames after the first, per second from the first frame out
    /// (of any camera) to the last.</summary>
    private static double? FpsOver(List<RunSummary> cameras, long frames)
    {
        var withFrames = cameras.Where(c => c.Frames > 0).ToList();
        if (frames < 2 || withFrames.Count == 0) return null;
        var seconds = (withFrames.Max(c => c.LastOutTicks) - withFrames.Min(c => c.FirstOutTicks)) / (double)System.Diagnostics.Stopwatch.Frequency;
        return seconds > 0 ? (frames - 1) / seconds : null;
    }

    public static RunSummary From(PipelineStats s, string? sourceError, bool interrupted)
    {
        var stages = new Dictionary<string, StageFigures>();
        Span<double> p = stackalloc double[3];
        foreach (var r in new[] { s.Capture, s.Pre, s.Model, s.Post, s.Infer, s.Render, s.EndToEnd }.Concat(s.Sinks.Values))
        {
            if (r.Count == 0) continue;
            r.Percentiles([50, 95, 99], p);
            stages[r.Name] = new StageFigures(p[0], p[1], p[2], r.Mean, r.Count);
        }
        var q = s.QualitySnapshot();
        return new RunSummary
        {
            Source = s.SourceName, Model = s.ModelName, Device = s.Device, Frames = s.FramesOut, FramesIn = s.FramesIn,
            DroppedAtSource = s.DroppedAtSource, DroppedAtViewers = s.DroppedAtViewers, ViewersEvicted = s.ViewersEvicted,
            Fps = double.IsFinite(s.Fps) ? s.Fps : null, Seconds = s.Elapsed.TotalSeconds,
            FirstOutTicks = s.FirstOutTicks, LastOutTicks = s.LastOutTicks,
            Stages = stages,
            MeanIoU = q.SegPixels > 0 ? q.MeanIoU : null, PixelAccuracy = q.SegPixels > 0 ? q.PixelAccuracy : null,
            DepthRmse = q.DepthPixels > 0 ? q.Rmse : null, DepthAbsRel = q.DepthPixels > 0 ? q.AbsRel : null, DepthDelta1 = q.DepthPixels > 0
                ? q.Delta1 : null,
            SinkErrors = new Dictionary<string, long>(s.SinkErrors), SourceError = sourceError, Interrupted = interrupted,
            Resources = [.. s.Resources],
            FramesNotDrawn = s.FramesNotDrawn,
        };
    }

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        if (Cameras is { } cams && Batching is { } b)
        {
            sb.AppendLine(string.Create(c, $"source  {Source}"));
            sb.AppendLine(string.Create(c, $"model   {Model} on {Device}: {b.ModelRuns} runs, mean batch {b.MeanBatch:0.00} (runs by size: " +
                $"{string.Join(", ", b.RunsByBatchSize.Select(kv => $"{kv.Key}: {kv.Value}"))}), batch timeout {b.TimeoutMs:0.#} " +
                    $"ms{(b.Instances > 1 ? $", {b.Instances} instances running at once" : "")}"));
            sb.AppendLine(string.Create(c, $"engine  {Frames} frames over all cameras, {(Fps is { } f ? $"{f:0.0} FPS" : "-")} over {Seconds:0.00} " +
                $"s; model {b.ModelMsPerBatchP50:0.0} ms per batch (p50), {b.ModelMsPerFrame:0.0} ms per " +
                    $"frame{(Interrupted ? " (interrupted)" : "")}"));
            if (b.SyncMs is { } sync)
                sb.AppendLine(string.Create(c, $"sets    {b.Sets} synchronised sets (stamps within {sync:0.#} ms); frames that went on without a " +
                    $"complete set: {string.Join(", ", b.IncompleteSets!.Select(kv => $"{kv.Key} {kv.Value}"))}"));
            if (WarmUpMs is { } wu) sb.AppendLine(string.Create(c,
                $"warm-up {wu:0} ms over {WarmUpRuns} runs before the sources opened (in no other figure)"));
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
            if (StageError is not null) sb.AppendLine($"stage error: {StageError}; outputs were finalised");
            foreach (var note in Notes) sb.AppendLine(note);
            AppendOutputs(sb);
            return sb.ToString().TrimEnd();
        }
        sb.AppendLine(string.Create(c, $"source  {Source}"));
        sb.AppendLine(string.Create(c, $"model   {Model} on {Device}"));
        sb.AppendLine(string.Create(c, $"frames  {Frames} processed, {DroppedAtSource} dropped at the " +
            $"source{(DroppedAtViewers > 0 ? $", {DroppedAtViewers} skipped by viewers" : "")}" +
            $"{(ViewersEvicted > 0 ? $", {ViewersEvicted} stalled viewer(s) evicted" : "")}{(Interrupted ? " (interrupted)" : "")}"));
        sb.AppendLine(Fps is { } fps ? string.Create(c, $"rate    {fps:0.0} FPS over {Seconds:0.00} s") : string.Create(c,
            $"rate    - (a rate needs two frames) over {Seconds:0.00} s"));
        if (WarmUpMs is { } w) sb.AppendLine(string.Create(c,
            $"warm-up {w:0} ms over {WarmUpRuns} runs before the source opened (in no other figure)"));
        if (Stages.TryGetValue("end-to-end", out var e2e))
            sb.AppendLine(string.Create(c, $"latency end-to-end p50 {e2e.P50:0.0} ms, p95 {e2e.P95:0.0} ms, p99 {e2e.P99:0.0} ms"));
        var parts = Stages.Where(kv => kv.Key != "end-to-end").Select(kv => string.Create(c, $"{kv.Key} {kv.Value.P50:0.0}"));
        sb.AppendLine("stages  p50 ms: " + string.Join(", ", parts));
        if (FramesNotDrawn > 0) sb.AppendLine(string.Create(c,
            $"render  {FramesNotDrawn} of {Frames} frames not drawn: no output showed them (no recording, window or viewer)"));
        if (MeanIoU is not null || DepthRmse is not null)
        {
            var q = new List<string>();
            if (MeanIoU is { } m) q.Add(string.Create(c, $"mIoU {m * 100:0.00} %, pixel acc {PixelAccuracy * 100:0.00} %"));
            if (DepthRmse is { } r) q.Add(string.Create(c,
                $"depth RMSE {r:0.000} m, abs rel {DepthAbsRel:0.000}, delta<1.25 {DepthDelta1 * 100:0.0} %"));
            sb.AppendLine("quality " + string.Join("; ", q) + " (vs the source's ground truth)");
        }
        if (Resources.Count >= 3)
        {
            // From the first sample after warm-up (10 % of the run) to the end.
            var start = Resources[Math.Min(Resources.Count - 2, Math.Max(1, Resources.Count / 10))];
            var end = Resources[^1];
            sb.AppendLine(string.Create(c, $"memory  working set {start.WorkingSetMiB:0} MiB at frame {start.Frame} -> {end.WorkingSetMiB:0} MiB " +
                $"at the end (max {Resources.Max(r => r.WorkingSetMiB):0}); handles {start.Handles} -> {end.Handles}; live frames " +
                    $"{end.LivePackets}"));
        }
        foreach (var (sink, n) in SinkErrors) sb.AppendLine(string.Create(c, $"fault   sink {sink}: {n} error(s); the other sinks kept running"));
        if (SourceError is not null) sb.AppendLine($"source error: {SourceError}");
        if (StageError is not null) sb.AppendLine($"stage error: {StageError}; outputs were finalised");
        if (Recording is { } rec)
            sb.AppendLine(string.Create(c, $"record  {rec.Path}: {rec.FramesInFile} frames at {rec.Fps:0.##} FPS " +
                $"({rec.FramesInFile / rec.Fps:0.00} s, {rec.Codec}); {rec.FramesWritten} processed frames written, {rec.FramesRepeated} repeated, " +
                    $"{rec.FramesSkipped} skipped{(rec.FramesRescaled > 0 ? $", {rec.FramesRescaled} of another size scaled" : "")}"));
        foreach (var note in Notes) sb.AppendLine(note);
        AppendOutputs(sb);
        return sb.ToString().TrimEnd();
    }

    private void AppendOutputs(StringBuilder sb)
    {
        if (Outputs.Count > 0) sb.AppendLine("outputs " + string.Join(", ", Outputs.Select(kv => $"{kv.Key} {kv.Value}")));
    }

    /// <summary>JSON numbers are numbers or null: a figure that is not finite is written as null, never as a string.</summary>
    /// <remarks>snake_case names, as /api/stats, the raw outputs and every other JSON of the engine; dictionary keys (stage and camera names) as they
    /// are.</remarks>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = RealtimeMtl.Common.Files.JsonStyle.SnakeCase, Converters = { new FiniteOrNull() }
    };

    private sealed class FiniteOrNull : System.Text.Json.Serialization.JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
