using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Cli.Composition;

/// <summary>The figures of one run, built from how the engine's run ended (<see cref="EngineRun"/>), and their JSON
/// (--stats-json); the printed text is <see cref="RunReport"/>.</summary>
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

    /// <summary>The camera's own summary for one camera; for several, their totals with each listed.</summary>
    public static RunSummary From(EngineRun run)
    {
        if (run.Cameras.Count == 1)
            return From(run.Cameras[0].Stats, run.Cameras[0].SourceError, run.Interrupted) with { StageError = run.Cameras[0].StageError };
        var cameras = run.Cameras.Select(c => From(c.Stats, c.SourceError, run.Interrupted) with { Camera = c.Name, StageError = c.StageError })
            .ToList();
        return Combine(cameras, run.Batches, run.StageError, run.BatchTimeout, run.Sync, run.Instances);
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
