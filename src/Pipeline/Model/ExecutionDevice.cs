using Microsoft.ML.OnnxRuntime;

namespace RealtimeMtl.Pipeline.Model;

public enum ExecutionDevice { Auto, Cpu, Cuda, TensorRt }

/// <summary>
/// Picks the ONNX Runtime execution provider. TensorRT (FP16, engine cache) then CUDA then CPU; a provider the
/// installed ONNX Runtime build lacks, or that fails to start (no GPU), falls back with one clear line.
/// </summary>
public static class ExecutionProviders
{
    public static ExecutionDevice Parse(string s) => s.ToLowerInvariant() switch
    {
        "auto" => ExecutionDevice.Auto,
        "cpu" => ExecutionDevice.Cpu,
        "cuda" or "gpu" => ExecutionDevice.Cuda,
        "tensorrt" or "trt" => ExecutionDevice.TensorRt,
        _ => throw new ArgumentException($"unknown device '{s}'; use cpu, cuda, tensorrt or auto"),
    };

    /// <summary>Adds the providers for <paramref name="requested"/> to <paramref name="options"/>; returns what will run and any fallback note.</summary>
    public static (ExecutionDevice Used, string? Note) Configure(SessionOptions options, ExecutionDevice requested, string? engineCache, IReadOnlyCollection<string>? available = null)
    {
        available ??= OrtEnv.Instance().GetAvailableProviders();
        if (requested == ExecutionDevice.Cpu) return (ExecutionDevice.Cpu, null);
        var wantTrt = requested is ExecutionDevice.TensorRt or ExecutionDevice.Auto;
        var wantCuda = requested is ExecutionDevice.Cuda or ExecutionDevice.TensorRt or ExecutionDevice.Auto;
        string? note = null;
        if (wantTrt && available.Contains("TensorrtExecutionProvider"))
        {
            try
            {
                using var trt = new OrtTensorRTProviderOptions();
                var cache = engineCache ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rtmtl-trt-cache");
                Directory.CreateDirectory(cache);
                trt.UpdateOptions(new Dictionary<string, string>
                {
                    ["device_id"] = "0", ["trt_fp16_enable"] = "1", ["trt_engine_cache_enable"] = "1", ["trt_engine_cache_path"] = cache,
                });
                options.AppendExecutionProvider_Tensorrt(trt);
                options.AppendExecutionProvider_CUDA(0);
                return (ExecutionDevice.TensorRt, null);
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                note = $"TensorRT could not start ({FirstLine(e.Message)})";
            }
        }
        else if (requested == ExecutionDevice.TensorRt) note = "TensorRT is not in this ONNX Runtime build";
        if (wantCuda && available.Contains("CUDAExecutionProvider"))
        {
            try
            {
                options.AppendExecutionProvider_CUDA(0);
                return (ExecutionDevice.Cuda, note is null ? null : note + "; using CUDA");
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                note = (note is null ? "" : note + "; ") + $"CUDA could not start ({FirstLine(e.Message)})";
            }
        }
        else if (requested is ExecutionDevice.Cuda or ExecutionDevice.TensorRt)
            note = (note is null ? "" : note + "; ") + "CUDA is not in this ONNX Runtime build";
        if (requested == ExecutionDevice.Auto) return (ExecutionDevice.Cpu, null);
        return (ExecutionDevice.Cpu, $"warning: --device {requested.ToString().ToLowerInvariant()} requested but {note}; running on CPU. Build with -p:RtmtlGpu=true on a machine with an NVIDIA GPU for GPU inference.");
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
