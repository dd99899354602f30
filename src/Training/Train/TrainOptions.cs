namespace RealtimeMtl.Training.Train;

public enum OptimizerKind { Adam, Sgd }

/// <summary>Everything a training run needs; validated at the CLI edge.</summary>
public sealed record TrainOptions
{
    public string Architecture { get; init; } = "mtl_ssw";
    public string Backbone { get; init; } = "resnet18-slim";
    public string Size { get; init; } = "light";
    public string Dataset { get; init; } = "synthetic";
    public string? DataPath { get; init; }
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 8;
    public double LearningRate { get; init; } = 1e-3;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 1e-4;
    public double PolyPower { get; init; } = 0.9;
    public double SegWeight { get; init; } = 1.0;
    public double DepthWeight { get; init; } = 1.0;
    public int Seed { get; init; } = 1;
    public int Threads { get; init; }
    public int? Limit { get; init; }
    public int TrainSamples { get; init; } = 2000;
    public int ValSamples { get; init; } = 200;
    public int? InputWidth { get; init; }
    public int? InputHeight { get; init; }
    public string OutDir { get; init; } = "runs/train/latest";
    public bool Resume { get; init; }
    public string Device { get; init; } = "auto";
    public bool Augment { get; init; } = true;
    public float SwSelf { get; init; } = 0.9f;
    public float SwCross { get; init; } = 0.1f;
    public bool Quiet { get; init; }
    /// <summary>imagenet (the NuGet ResNet-18 weights; default for resnet18 backbones), none, or a path to that ONNX file.</summary>
    public string Pretrained { get; init; } = "imagenet";
}
