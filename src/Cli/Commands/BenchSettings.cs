using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Cli.Commands;

/// <summary>What rtmtl bench is asked to measure, validated on the command line.</summary>
public sealed record BenchSettings(string ModelPath, string Source, int Frames, int Threads, string? JsonPath, bool ModelOnly, bool Peers,
    ExecutionDevice Device = ExecutionDevice.Cpu, GpuDataPath GpuPath = GpuDataPath.Auto);
