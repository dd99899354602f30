using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

namespace RealtimeMtl.Inference;

public enum ExecutionDevice { Auto, Cpu, Cuda, TensorRt }

/// <summary>
/// Picks the ONNX Runtime execution provider. TensorRT (FP16, engine cache) then CUDA then CPU; a provider the
/// installed ONNX Runtime build lacks, or that fails to start (no GPU, a CUDA library missing), falls back with one
/// clear line that names what is missing and what to do. ONNX Runtime's own log stays quiet unless verbose.
/// </summary>
public static partial class ExecutionProviders
{
    private static int _logConfigured;

    /// <summary>True when this process carries the GPU build of ONNX Runtime (./rtmtl build --gpu).</summary>
    public static bool IsGpuBuild =>
#if RTMTL_GPU
        true;
#else
        false;
#endif

    /// <summary>ONNX Runtime's version string (for the metrics' build info).</summary>
    public static string RuntimeVersion => OrtEnv.Instance().GetVersionString();

    public static ExecutionDevice Parse(string s) => s.ToLowerInvariant() switch
    {
        "auto" => ExecutionDevice.Auto,
        "cpu" => ExecutionDevice.Cpu,
        "cuda" or "gpu" => ExecutionDevice.Cuda,
        "tensorrt" or "trt" => ExecutionDevice.TensorRt,
        _ => throw new ArgumentException($"unknown device '{s}'; use cpu, cuda, tensorrt or auto"),
    };

    /// <summary>
    /// ONNX Runtime logs to stderr at warning level by default, in several red lines when a provider fails to load.
    /// The engine says it in one line of its own, so ONNX Runtime only speaks at fatal level unless asked (--verbose).
    /// The first call wins: the environment is process-wide.
    /// </summary>
    public static void ConfigureLogging(bool verbose)
    {
        if (Interlocked.Exchange(ref _logConfigured, 1) == 1) return;
        OrtEnv.Instance().EnvLogLevel = verbose ? OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING : OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
    }

    /// <summary>Adds the providers for <paramref name="requested"/> to <paramref name="options"/>; returns what will run and any fallback
    /// note.</summary>
    public static (ExecutionDevice Used, string? Note) Configure(SessionOptions options, ExecutionDevice requested, string? engineCache,
        IReadOnlyCollection<string>? available = null, GpuOptions? gpu = null)
    {
        ConfigureLogging(verbose: false);
        available ??= OrtEnv.Instance().GetAvailableProviders();
        gpu ??= new GpuOptions();
        if (requested == ExecutionDevice.Cpu) return (ExecutionDevice.Cpu, null);
        var wantTrt = requested is ExecutionDevice.TensorRt or ExecutionDevice.Auto;
        var wantCuda = requested is ExecutionDevice.Cuda or ExecutionDevice.TensorRt or ExecutionDevice.Auto;
        var problems = new List<string>();
        if (wantTrt && available.Contains("TensorrtExecutionProvider"))
        {
            try
            {
                using var trt = new OrtTensorRTProviderOptions();
                var cache = engineCache ?? Path.Combine(Path.GetTempPath(), "rtmtl-trt-cache");
                Directory.CreateDirectory(cache);
                trt.UpdateOptions(new Dictionary<string, string>
                {
                    ["device_id"] = "0", ["trt_fp16_enable"] = "1", ["trt_engine_cache_enable"] = "1", ["trt_engine_cache_path"] = cache,
                });
                options.AppendExecutionProvider_Tensorrt(trt);
                // TensorRT runs the graph itself; CUDA only takes what TensorRT leaves, so no CUDA graph there.
                AppendCuda(options, gpu with { Path = GpuDataPath.IoBinding });
                return (ExecutionDevice.TensorRt, null);
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                problems.Add($"TensorRT could not start ({Cause(e.Message)})");
            }
        }
        else if (requested == ExecutionDevice.TensorRt) problems.Add("TensorRT is not in this ONNX Runtime build");
        if (wantCuda && available.Contains("CUDAExecutionProvider"))
        {
            try
            {
                AppendCuda(options, gpu);
                return (ExecutionDevice.Cuda, problems.Count == 0 ? null
                    : $"{string.Join("; ", problems)}; using CUDA. Install TensorRT 10 (libnvinfer.so.10) for --device tensorrt.");
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                problems.Add($"CUDA could not start ({Cause(e.Message)})");
            }
        }
        else if (wantCuda) problems.Add("CUDA is not in this ONNX Runtime build");
        if (requested == ExecutionDevice.Auto) return (ExecutionDevice.Cpu, null);
        var fix = IsGpuBuild
            ? "install the NVIDIA driver with CUDA 13 and cuDNN 9 and put their lib folders on LD_LIBRARY_PATH"
            : "build the GPU flavour with ./rtmtl build --gpu and run with RTMTL_GPU=1";
        return (ExecutionDevice.Cpu, $"--device {requested.ToString().ToLowerInvariant()} requested but {string.Join("; ", problems)}; running on " +
            $"CPU. For GPU inference, {fix}.");
    }

    /// <summary>
    /// CUDA provider options. CUDA graphs capture the whole graph once and replay it (fixed shapes and buffer
    /// addresses, which the engine's pinned buffers give); cuDNN's exhaustive algorithm search happens in warm-up.
    /// </summary>
    private static void AppendCuda(SessionOptions options, GpuOptions gpu)
    {
        using var cuda = new OrtCUDAProviderOptions();
        var o = new Dictionary<string, string>
        {
            ["device_id"] = "0",
            ["cudnn_conv_algo_search"] = "EXHAUSTIVE",
            ["do_copy_in_default_stream"] = "1",
        };
        if (gpu.CudaGraph) o["enable_cuda_graph"] = "1";
        cuda.UpdateOptions(o);
        options.AppendExecutionProvider_CUDA(cuda);
    }

    /// <summary>The useful part of a provider's load error: the shared library that could not be loaded, when it says so.</summary>
    public static string Cause(string message)
    {
        var missing = MissingLibraryPattern().Matches(message).Select(m => m.Groups[1].Value).Distinct().ToList();
        // The provider library itself is named first; the library it needs is the real cause.
        var needed = missing.Where(l => !l.StartsWith("libonnxruntime_providers_", StringComparison.Ordinal)).ToList();
        if (needed.Count > 0) return $"{string.Join(", ", needed)} not found";
        if (missing.Count > 0) return $"{missing[0]} not found";
        var line = message.Split('\n')[0].Trim();
        return line.Length > 200 ? line[..200] + "..." : line;
    }

    [GeneratedRegex(@"(lib[\w.+-]+?\.so(?:\.\d+)*)\s*:\s*cannot open shared object file")]
    private static partial Regex MissingLibraryPattern();
}

/// <summary>
/// How frames reach the GPU under --device cuda. Plain: ONNX Runtime copies the pinned host input in and the
/// outputs out inside Run. IoBinding: input and outputs live in device buffers bound once; the frame is copied in
/// and the outputs copied back once, outside Run. CudaGraph: IoBinding plus the whole network captured as one CUDA
/// graph and replayed every frame (fixed shapes and addresses).
/// </summary>
public enum GpuDataPath { Auto, Plain, IoBinding, CudaGraph }

public sealed record GpuOptions
{
    public GpuDataPath Path { get; init; } = GpuDataPath.Auto;
    /// <summary>
    /// What Auto means under CUDA: the fastest path measured (README, GPU section; H100): the shipped model's
    /// p50 0.98 ms with a CUDA graph against 2.48 ms plain and 3.24 ms IOBinding; paper-sized FP16 5.03 / 6.08 / 6.04 ms.
    /// </summary>
    public const GpuDataPath DefaultPath = GpuDataPath.CudaGraph;
    public bool CudaGraph => Path == GpuDataPath.CudaGraph;

    public static GpuDataPath Parse(string s) => s.ToLowerInvariant() switch
    {
        "auto" => GpuDataPath.Auto,
        "plain" => GpuDataPath.Plain,
        "iobinding" => GpuDataPath.IoBinding,
        "cudagraph" or "cuda-graph" or "graph" => GpuDataPath.CudaGraph,
        _ => throw new ArgumentException($"unknown --gpu-path '{s}'; use auto, plain, iobinding or cudagraph"),
    };
}
