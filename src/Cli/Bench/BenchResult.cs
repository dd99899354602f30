using System.Text.Json;
using System.Text.Json.Serialization;

namespace RealtimeMtl.Cli.Bench;

/// <summary>Everything one <c>rtmtl bench</c> run measured: printed as a table and serialised once as JSON (snake_case).</summary>
public sealed record BenchResult
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion => 1;
    public required DeviceFigures Device { get; init; }
    public required ModelFigures Model { get; init; }
    public int Cores { get; init; } = Environment.ProcessorCount;
    public List<PeerFigures> Peers { get; init; } = [];
    public PipelineFigures? Pipeline { get; init; }
    public double PeakWorkingSetMib { get; init; }

    public sealed record DeviceFigures(string Requested, string Used, string GpuPath, string GpuName, string OnnxRuntimeBuild);

    /// <summary>The ONNX Runtime session alone on a prepared input, after an untimed warm-up.</summary>
    public sealed record ModelFigures(string Name, string Input, double Fps, double P50Ms, double P95Ms, double WarmUpMs, int WarmUpRuns);

    /// <summary>Another runtime on the same model file and input: measured, or the reason it was not.</summary>
    public sealed record PeerFigures(string Name, string Label)
    {
        public double? Fps { get; init; }
        public double? P50Ms { get; init; }
        public double? P95Ms { get; init; }
        /// <summary>ONNX Runtime's FPS over the peer's.</summary>
        public double? OnnxRuntimeSpeedup { get; init; }
        public double? LabelAgreement { get; init; }
        public string? Architecture { get; init; }
        public string? Problem { get; init; }
    }

    public sealed record StageLatency(double P50Ms, double P95Ms, double P99Ms);

    /// <summary>
    /// Source -> infer -> render (side layout, HUD) -> recorder. Managed allocation per frame in the steady state
    /// (between a fifth of the run and its end) and over the whole run (with starting ffmpeg and the summary), and the
    /// sampled allocation profile of the run.
    /// </summary>
    public sealed record PipelineFigures(string Source, double Fps, long Frames, long RecordedFrames, double Efficiency,
        Dictionary<string, StageLatency> Stages, double ManagedBytesPerFrame, double ManagedBytesPerFrameWholeRun,
        Dictionary<string, double> BytesPerFrameByStage, List<string> TopAllocatedTypes)
    {
        /// <summary>The same, per frame of each camera, with four cameras in one engine (each camera a replay of its own).</summary>
        public double ManagedBytesPerFrameFourCameras { get; init; } = double.NaN;
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
