namespace RealtimeMtl.Inference;

public sealed record ModelOptions
{
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;
    /// <summary>ONNX Runtime intra-op threads; 0 = one per physical core.</summary>
    public int Threads { get; init; }
    public string? TensorRtCache { get; init; }
    /// <summary>How frames reach the GPU under CUDA (ignored on CPU).</summary>
    public GpuOptions Gpu { get; init; } = new();
    /// <summary>Provider names to assume available (tests); null = ask ONNX Runtime.</summary>
    public IReadOnlyCollection<string>? AvailableProviders { get; init; }
}
