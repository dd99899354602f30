namespace RealtimeMtl.Common.Models;

/// <summary>The <c>rtmtl.*</c> keys of an ONNX model's metadata: the one list the engine, export and import share.</summary>
public static class ModelMetadataKeys
{
    /// <summary>Contract version the exporter wrote.</summary>
    public const string Contract = "rtmtl.contract";
    public const string Architecture = "rtmtl.architecture";
    public const string Backbone = "rtmtl.backbone";
    /// <summary>segmentation,depth | segmentation | depth.</summary>
    public const string Tasks = "rtmtl.tasks";
    public const string LabelSet = "rtmtl.labelset";
    /// <summary>Class names, comma-separated, in label order.</summary>
    public const string Classes = "rtmtl.classes";
    /// <summary>One "#rrggbb" per class.</summary>
    public const string Palette = "rtmtl.palette";
    /// <summary>"WxH" of the fixed input.</summary>
    public const string InputSize = "rtmtl.input_size";
    /// <summary>"min,max" in metres.</summary>
    public const string DepthRange = "rtmtl.depth_range";
    public const string Dataset = "rtmtl.dataset";
    /// <summary>The full training configuration as JSON (rebuilds the network).</summary>
    public const string Config = "rtmtl.config";
    public const string Parameters = "rtmtl.parameters";
    public const string SelectiveWeights = "rtmtl.sw_weights";
    /// <summary>Test-split figures as JSON.</summary>
    public const string Metrics = "rtmtl.metrics";
    /// <summary>The training recipe as JSON.</summary>
    public const string Recipe = "rtmtl.recipe";
    /// <summary>fp32 | fp16 | int8-qdq.</summary>
    public const string Precision = "rtmtl.precision";
    public const string Calibration = "rtmtl.calibration";
    /// <summary>The file an imported model came from, and how it was wrapped.</summary>
    public const string Source = "rtmtl.source";
    public const string Import = "rtmtl.import";
}
