using System.Runtime.CompilerServices;

namespace RealtimeMtl.Training.Tests;

internal static class TestSetup
{
    /// <summary>The tests use TorchSharp in this process: the same explicit start-up step as rtmtl-train's Program.</summary>
    [ModuleInitializer]
    internal static void PrepareLibTorch() => Native.LibTorchNativeFix.EnsureLoadable(_ => { });
}
