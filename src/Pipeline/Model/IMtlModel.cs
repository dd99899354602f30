using OpenCvSharp;

namespace RealtimeMtl.Pipeline.Model;

/// <summary>
/// What the infer stage needs from a model (src/Inference implements it with ONNX Runtime): take one BGR frame, run,
/// and leave labels, depth (metres) and optionally confidence at model resolution in reused Mats.
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
}
