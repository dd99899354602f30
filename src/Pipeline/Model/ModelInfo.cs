using RealtimeMtl.Pipeline.Labels;

namespace RealtimeMtl.Pipeline.Model;

/// <summary>What the engine learns from a model's contract and rtmtl.* metadata.</summary>
public sealed record ModelInfo
{
    public required string Path { get; init; }
    public required string Architecture { get; init; }
    public required string Backbone { get; init; }
    public required LabelSet Labels { get; init; }
    public required int InputWidth { get; init; }
    public required int InputHeight { get; init; }
    public required float DepthMin { get; init; }
    public required float DepthMax { get; init; }
    public required bool HasConfidence { get; init; }
    public string Dataset { get; init; } = "unknown";
    public string? MetricsJson { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    public string Name => System.IO.Path.GetFileName(Path);
}
