using System.Globalization;
using RealtimeMtl.Common.Models;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Inference;

/// <summary>A model's rtmtl.* metadata (<see cref="ModelMetadataKeys"/>) read into the engine's <see cref="ModelInfo"/>.</summary>
public static class ModelMetadata
{
    /// <summary>Reads metadata into a ModelInfo, or says which key is missing or malformed.</summary>
    public static ModelInfo Read(string path, IReadOnlyDictionary<string, string> md, bool hasConfidence, int inputW, int inputH)
    {
        string Need(string key) => md.TryGetValue(key, out var v) && v.Length > 0 ? v
            : throw new ModelContractException($"model '{path}' has no '{key}' metadata; export it with rtmtl-train export (the rtmtl.* metadata " +
                $"tells the engine its classes, palette and depth range).");
        var classes = Need(ModelMetadataKeys.Classes).Split(',');
        var palette = md.TryGetValue(ModelMetadataKeys.Palette, out var p) && p.Length > 0 ? ParsePalette(path, p, classes.Length) : null;
        var labels = new LabelSet(md.TryGetValue(ModelMetadataKeys.LabelSet, out var ln) ? ln : "custom", classes, palette);
        var range = Need(ModelMetadataKeys.DepthRange).Split(',');
        if (range.Length != 2 || !float.TryParse(range[0], CultureInfo.InvariantCulture, out var dmin) || !float.TryParse(range[1],
            CultureInfo.InvariantCulture, out var dmax) || !(dmax > dmin))
            throw new ModelContractException($"model '{path}': rtmtl.depth_range '{md[ModelMetadataKeys.DepthRange]}' must be 'min,max' in metres.");
        var size = Need(ModelMetadataKeys.InputSize);
        if (size != $"{inputW}x{inputH}")
            throw new ModelContractException($"model '{path}': rtmtl.input_size '{size}' disagrees with the input shape {inputW}x{inputH}.");
        return new ModelInfo
        {
            Path = path, Architecture = Need(ModelMetadataKeys.Architecture), Backbone = md.GetValueOrDefault(ModelMetadataKeys.Backbone, "unknown"),
            Labels = labels,
            InputWidth = inputW, InputHeight = inputH, DepthMin = dmin, DepthMax = dmax, HasConfidence = hasConfidence,
            Dataset = md.GetValueOrDefault(ModelMetadataKeys.Dataset, "unknown"), MetricsJson = md.GetValueOrDefault(ModelMetadataKeys.Metrics),
            Metadata = md,
        };
    }

    private static IReadOnlyList<(byte B, byte G, byte R)> ParsePalette(string path, string s, int count)
    {
        var parts = s.Split(',');
        if (parts.Length != count) throw new ModelContractException($"model '{path}': rtmtl.palette has {parts.Length} colours for {count} classes.");
        return parts.Select(c =>
        {
            if (!LabelSet.TryParseHex(c, out var colour))
                throw new ModelContractException($"model '{path}': palette colour '{c}' must look like #rrggbb.");
            return colour;
        }).ToList();
    }
}
