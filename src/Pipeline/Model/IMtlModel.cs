using OpenCvSharp;

namespace RealtimeMtl.Pipeline.Model;

/// <summary>
/// What the engine needs from a model (src/Inference implements it with ONNX Runtime): take BGR frames, run, and leave
/// labels, depth (metres) and optionally confidence at model resolution in reused Mats. A model may take a batch of
/// up to <see cref="MaxBatch"/> frames in one run (the many-camera engine's stream muxer); the single-frame members
/// are item 0 of a batch of one.
/// </summary>
public interface IMtlModel
{
    ModelInfo Info { get; }

    /// <summary>Where it runs, lower case (cpu, cuda, tensorrt), for the HUD and the summary.</summary>
    string DeviceName { get; }

    /// <summary>Resizes and copies a BGR frame into the model's input.</summary>
    void SetInput(Mat bgr);

    void Run();

    /// <summary>Class per pixel at model resolution (CV_8UC1), valid until the next <see cref="Run"/>.</summary>
    Mat Labels { get; }

    /// <summary>Depth in metres at model resolution (CV_32FC1).</summary>
    Mat Depth { get; }

    /// <summary>Max softmax probability (CV_32FC1), when the model gives it.</summary>
    Mat? Confidence { get; }

    /// <summary>The largest batch one <see cref="RunBatch"/> takes (1: one frame per run).</summary>
    int MaxBatch => 1;

    /// <summary>How many runs may be in flight at once, each on its own <see cref="Instance"/> (1: one at a time).</summary>
    int Instances => 1;

    /// <summary>
    /// Instance <paramref name="k"/> of <see cref="Instances"/>: the same network with its own input and output buffers,
    /// so runs on different instances may overlap. Instance 0 is this model.
    /// </summary>
    IMtlModel Instance(int k) => k == 0 ? this : throw new ArgumentOutOfRangeException(nameof(k),
        $"this model runs one batch at a time (instance {k})");

    /// <summary>Resizes and copies a BGR frame into item <paramref name="index"/> of the next batch.</summary>
    void SetInput(int index, Mat bgr)
    {
        if (index != 0) throw new ArgumentOutOfRangeException(nameof(index), $"this model takes one frame per run (index {index})");
        SetInput(bgr);
    }

    /// <summary>Runs the network on items 0..count-1 of the input.</summary>
    void RunBatch(int count)
    {
        if (count != 1) throw new ArgumentOutOfRangeException(nameof(count), $"this model takes one frame per run (batch {count})");
        Run();
    }

    /// <summary>The outputs of item <paramref name="index"/> of the last run, valid until the next run.</summary>
    ModelOutputs Output(int index) =>
        index == 0 ? new ModelOutputs(Labels, Depth, Confidence) : throw new ArgumentOutOfRangeException(nameof(index),
            $"this model takes one frame per run (index {index})");
}

/// <summary>One frame's outputs at model resolution: labels (CV_8UC1), depth in metres (CV_32FC1), confidence (CV_32FC1) when the model has
/// it.</summary>
public readonly record struct ModelOutputs(Mat Labels, Mat Depth, Mat? Confidence);
