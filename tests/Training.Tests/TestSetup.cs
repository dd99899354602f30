using System.Runtime.CompilerServices;
using RealtimeMtl.Common.Logging;

namespace RealtimeMtl.Training.Tests;

internal static class TestSetup
{
    /// <summary>
    /// The tests use TorchSharp in this process: the same explicit start-up steps as rtmtl-train's Program (LibTorch
    /// made loadable, the finalizer guard, then oneDNN capped where it is not safe on this machine, with the same one line when it is).
    /// </summary>
    [ModuleInitializer]
    internal static void PrepareLibTorch()
    {
        Native.LibTorchNativeFix.EnsureLoadable(NullEventLog.Instance);
        Native.TorchFinalizerGuard.Install();
        Native.OneDnnGuard.Prepare(verbose: false);
    }
}
