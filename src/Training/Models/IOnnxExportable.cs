namespace RealtimeMtl.Training.Models;

/// <summary>A module that can write itself into an ONNX graph (eval-mode semantics, BatchNorm folded).</summary>
public interface IOnnxExportable
{
    /// <summary>Emits the module for an input of spatial size (h, w) and returns the output value's name and size.</summary>
    (string Value, long H, long W) Export(OnnxGraph g, string input, long h, long w);
}
