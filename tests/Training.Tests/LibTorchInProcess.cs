namespace RealtimeMtl.Training.Tests;

/// <summary>
/// The test classes that run LibTorch inside the test host. They run one at a time, never beside each other: LibTorch's
/// process-wide state (the global generator that <c>manual_seed</c> resets, the intra-op thread pool that training
/// resizes with <c>set_num_threads</c>, oneDNN's primitive cache) is not meant to be driven by several independent
/// callers at once, and a test host that crashes in native code takes every test with it. Tests that start rtmtl-train
/// as a child process have their own LibTorch and stay parallel.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LibTorchInProcess
{
    public const string Name = "LibTorch in the test host";
}
