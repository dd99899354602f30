using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Common.Models;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Training.Models;

namespace RealtimeMtl.Training.Onnx;

/// <summary>What the model card and the engine need to know about an exported model.</summary>
public sealed record ExportInfo
{
    public required LabelSet Labels { get; init; }
    public string Dataset { get; init; } = "synthetic";
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
    public IReadOnlyDictionary<string, string>? Recipe { get; init; }
}

/// <summary>
/// Writes an <see cref="MtlNet"/> as an ONNX model (opset 17, IR 8) that follows the engine's contract:
/// input <c>image</c> uint8 [N,H,W,3] BGR (normalisation and layout change in-graph); outputs <c>labels</c> uint8
/// [N,H,W] (argmax in-graph), <c>depth</c> float32 [N,H,W] metres (clipped to the depth range) and
/// <c>confidence</c> float32 [N,H,W] (max softmax probability); <c>rtmtl.*</c> metadata. BatchNorm is folded.
/// </summary>
public static class ModelExporter
{
    public const string ContractVersion = "1";

    public static byte[] Export(MtlNet net, ExportInfo info)
    {
        net.eval();
        var cfg = net.Config;
        if (info.Labels.Count != cfg.NumClasses)
            throw new ArgumentException($"label set {info.Labels.Name} has {info.Labels.Count} classes but the model predicts {cfg.NumClasses}");
        long h = cfg.InputHeight, w = cfg.InputWidth;
        var g = new OnnxGraph();
        var image = g.Input("image", OnnxType.UInt8, "N", h, w, 3L);
        var x = g.Node("Cast", [image], "to_float", OnnxAttribute.Of("to", (long)OnnxType.Float));
        x = g.Node("Transpose", [x], "to_nchw", OnnxAttribute.Of("perm", new[] { 0L, 3L, 1L, 2L }));
        var mean = MtlNet.MeanBgr.Select(m => m * 255f).ToArray();
        var invStd = MtlNet.StdBgr.Select(s => 1f / (s * 255f)).ToArray();
        x = g.Node("Sub", [x, g.Initializer("mean", mean, 1, 3, 1, 1)], "normalise_mean");
        x = g.Node("Mul", [x, g.Initializer("inv_std", invStd, 1, 3, 1, 1)], "normalise_std");

        var (seg, depth) = net.ExportCore(g, x, h, w);
        var axis1 = g.Initializer("axis1", [1L], 1);
        string labels, confidence, depthOut;
        if (seg is not null)
        {
            // max softmax = 1 / sum(exp(l - max l)): avoids a channel-axis Softmax, which ONNX Runtime runs slowly on NCHW.
            var max = g.Node("ReduceMax", [seg], "logit_max", OnnxAttribute.Of("axes", new[] { 1L }), OnnxAttribute.Of("keepdims", 1L));
            var exp = g.Node("Exp", [g.Node("Sub", [seg, max], "logit_shift")], "logit_exp");
            var sum = g.Node("ReduceSum", [exp, axis1], "exp_sum", OnnxAttribute.Of("keepdims", 0L));
            confidence = g.Node("Reciprocal", [sum], "max_probability");
            var arg = g.Node("ArgMax", [seg], "argmax", OnnxAttribute.Of("axis", 1L), OnnxAttribute.Of("keepdims", 0L));
            labels = g.Node("Cast", [arg], "labels_u8", OnnxAttribute.Of("to", (long)OnnxType.UInt8));
        }
        else
        {
            labels = confidence = "";
        }
        if (depth is not null)
        {
            var clipped = g.Node("Clip", [depth, g.Initializer("depth_min", [0f]), g.Initializer("depth_max", [cfg.MaxDepth])], "depth_clip");
            depthOut = g.Node("Squeeze", [clipped, axis1], "depth_squeeze");
        }
        else
        {
            // Segmentation-only model: depth is reported as invalid (0) everywhere.
            var asFloat = g.Node("Cast", [labels], "labels_f", OnnxAttribute.Of("to", (long)OnnxType.Float));
            depthOut = g.Node("Mul", [asFloat, g.Initializer("zero", [0f])], "depth_invalid");
        }
        if (seg is null)
        {
            // Depth-only model: every pixel carries the ignore label, confidence 0.
            var zero = g.Node("Mul", [depthOut, g.Initializer("zero", [0f])]);
            confidence = zero;
            labels = g.Node("Cast", [g.Node("Add", [zero, g.Initializer("ignore", [255f])])], "labels_ignore", OnnxAttribute.Of("to",
                (long)OnnxType.UInt8));
        }
        g.Identity(labels, "labels");
        g.Identity(depthOut, "depth");
        g.Identity(confidence, "confidence");
        g.Output("labels", OnnxType.UInt8, "N", h, w);
        g.Output("depth", OnnxType.Float, "N", h, w);
        g.Output("confidence", OnnxType.Float, "N", h, w);

        var md = g.Metadata;
        md[ModelMetadataKeys.Contract] = ContractVersion;
        md[ModelMetadataKeys.Architecture] = cfg.ArchitectureName;
        md[ModelMetadataKeys.Backbone] = ModelConfig.BackboneName(cfg.Backbone) + $"-os{cfg.OutputStride}";
        md[ModelMetadataKeys.Tasks] = cfg.Tasks switch
        {
            TaskSet.Both => "segmentation,depth",
            TaskSet.SegmentationOnly => "segmentation",
            _ => "depth"
        };
        md[ModelMetadataKeys.LabelSet] = info.Labels.Name;
        md[ModelMetadataKeys.Classes] = string.Join(",", info.Labels.Classes);
        md[ModelMetadataKeys.Palette] = string.Join(",", info.Labels.HexPalette());
        md[ModelMetadataKeys.InputSize] = $"{w}x{h}";
        md[ModelMetadataKeys.DepthRange] = string.Create(CultureInfo.InvariantCulture, $"0,{cfg.MaxDepth}");
        md[ModelMetadataKeys.Dataset] = info.Dataset;
        md[ModelMetadataKeys.Config] = JsonSerializer.Serialize(cfg, ConfigFromMetadata.Json);
        md[ModelMetadataKeys.Parameters] = net.ParameterCount.ToString(CultureInfo.InvariantCulture);
        if (net.SelectiveWeightsModule is { } sw) md[ModelMetadataKeys.SelectiveWeights] = string.Join(",", sw.WeightMatrix.Select(v
            => v.ToString("0.####", CultureInfo.InvariantCulture)));
        if (info.Metrics is not null) md[ModelMetadataKeys.Metrics] = JsonSerializer.Serialize(info.Metrics, Train.Trainer.JsonLines);
        if (info.Recipe is not null) md[ModelMetadataKeys.Recipe] = JsonSerializer.Serialize(info.Recipe);
        return g.ToModel();
    }
}
