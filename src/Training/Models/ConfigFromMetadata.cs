using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Common.Models;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Training.Models;

/// <summary>
/// Rebuilds the <see cref="ModelConfig"/> of an exported model from its rtmtl.* metadata: the exact config when the
/// exporter stored it (<c>rtmtl.config</c>), else from architecture, backbone, output stride, input size and classes.
/// </summary>
public static class ConfigFromMetadata
{
    public static readonly JsonSerializerOptions Json = new() { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static ModelConfig Read(IReadOnlyDictionary<string, string> md, string path)
    {
        if (md.TryGetValue(ModelMetadataKeys.Config, out var json) && json.Length > 0)
            return JsonSerializer.Deserialize<ModelConfig>(json, Json) ?? throw new InvalidDataException($"model '{path}': rtmtl.config is empty");
        string Need(string key) => md.TryGetValue(key, out var v) && v.Length > 0 ? v
            : throw new InvalidDataException($"model '{path}' has no '{key}' metadata; export it with rtmtl-train export.");
        var variant = ModelConfig.ParseVariant(Need(ModelMetadataKeys.Architecture).Replace("(seg)", "_seg").Replace("(depth)", "_depth"));
        var backbone = Need(ModelMetadataKeys.Backbone);
        var os = 16;
        var at = backbone.LastIndexOf("-os", StringComparison.Ordinal);
        if (at > 0)
        {
            os = int.Parse(backbone[(at + 3)..], CultureInfo.InvariantCulture);
            backbone = backbone[..at];
        }
        var kind = ModelConfig.ParseBackbone(backbone);
        var classes = Need(ModelMetadataKeys.Classes).Split(',').Length;
        var size = Need(ModelMetadataKeys.InputSize).Split('x');
        var range = Need(ModelMetadataKeys.DepthRange).Split(',');
        var baseConfig = kind == BackboneKind.ResNet18Slim ? ModelConfig.Light(variant, classes) : ModelConfig.Paper(variant,
            classes) with
        { Backbone = kind };
        return baseConfig with
        {
            OutputStride = os,
            InputWidth = int.Parse(size[0], CultureInfo.InvariantCulture),
            InputHeight = int.Parse(size[1], CultureInfo.InvariantCulture),
            MaxDepth = float.Parse(range[1], CultureInfo.InvariantCulture),
        };
    }
}
