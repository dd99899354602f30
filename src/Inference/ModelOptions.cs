namespace RealtimeMtl.Inference;

public sealed record ModelOptions
{
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;
    /// <summary>ONNX Runtime intra-op threads; 0 = one per physical core.</summary>
    public int Threads { get; init; }
    public string? TensorRtCache { get; init; }
    /// <summary>How frames reach the GPU under CUDA (ignored on CPU).</summary>
    public GpuOptions Gpu { get; init; } = new();
    /// <summary>The largest batch one run takes (the many-camera engine asks for its camera count); 1 = one frame per run.</summary>
    public int MaxBatch { get; init; } = 1;
    /// <summary>
    /// How many runs may be in flight at once on the CPU (Triton's instance count): one session, each instance with
    /// its own buffers and <see cref="Threads"/> / Instances threads. 1 = one run at a time.
    /// </summary>
    public int Instances { get; init; } = 1;
    /// <summary>Provider names to assume available (tests); null = ask ONNX Runtime.</summary>
    public IReadOnlyCollection<string>? AvailableProviders { get; init; }
}
