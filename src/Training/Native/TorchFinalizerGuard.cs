using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RealtimeMtl.Common.Logging;
using TorchSharp;

namespace RealtimeMtl.Training.Native;

/// <summary>
/// Closes a use-after-free in TorchSharp 0.107: a managed <c>Tensor</c> or <c>Scalar</c> holds a raw native pointer
/// and frees it in its finalizer, and the JIT may end such an object's life as soon as the pointer has been read. A
/// temporary (an implicit <c>Scalar</c> from a number, the alpha that <c>a + b</c> makes inside TorchSharp, the tensor
/// <c>a + b</c> of <c>(a + b).relu()</c>) can therefore be finalized while a native call on another thread still uses
/// it. Under GC pressure (tests in parallel, the paper-sized model) that showed as a segfault at a <c>lock xadd</c> in
/// libtorch_cpu.so, or as "Expected false to be true ... toFloat" from a scalar whose memory had been reused.
/// The fix (<c>Native/rtmtl_torch_guard.c</c>): TorchSharp's P/Invokes resolve to a small library that depends on
/// libLibTorchSharp.so and replaces only its two release functions; what the finalizer thread releases is freed
/// after ten seconds instead of at once. Explicit <c>Dispose</c> and dispose scopes still free at once.
/// </summary>
public static unsafe class TorchFinalizerGuard
{
    private const string LibraryName = "librtmtl_torch_guard.so";
    private static nint _handle;
    private static string? _state;

    /// <summary>True once TorchSharp's calls go through the guard.</summary>
    public static bool Active => _handle != 0;

    /// <summary>How many objects the finalizer thread released through the guard, and how many of them were freed after their wait.</summary>
    public static (long Deferred, long Freed) Counts => _handle == 0 ? (0, 0)
        : (((delegate* unmanaged<long>)NativeLibrary.GetExport(_handle, "rtmtl_guard_deferred"))(),
           ((delegate* unmanaged<long>)NativeLibrary.GetExport(_handle, "rtmtl_guard_freed"))());

    /// <summary>
    /// Routes TorchSharp's native calls through the guard, before TorchSharp's first call (after
    /// <see cref="LibTorchNativeFix.EnsureLoadable"/>, which the guard's dependency needs). Idempotent. Returns the state
    /// in words: "active", or why not (no gcc when it was built, another resolver), which a verbose run prints.
    /// </summary>
    public static string Install(IEventLog? log = null)
    {
        if (_state is { } done) return done;
        var path = new[]
        {
            Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", LibraryName),
            Path.Combine(AppContext.BaseDirectory, LibraryName),
        }.FirstOrDefault(File.Exists);
        if (!OperatingSystem.IsLinux() || path is null) return _state = $"not built ({LibraryName} is built with gcc; install gcc and rebuild)";
        if (!NativeLibrary.TryLoad(path, out var handle)) return _state = $"{path} does not load beside libLibTorchSharp.so";
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) => name == "LibTorchSharp" ? handle : 0);
        }
        catch (InvalidOperationException)
        {
            return _state = "TorchSharp's native calls are already resolved elsewhere";
        }
        RegisterFinalizerThread((nint)NativeLibrary.GetExport(handle, "rtmtl_guard_register_finalizer_thread"));
        _handle = handle;
        log?.Info("rtmtl-train: LibTorch objects released by the finalizer are freed after a grace period (torch guard)");
        return _state = "active";
    }

    private static void RegisterFinalizerThread(nint register)
    {
        Probe(register);
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Probe(nint register) => _ = new FinalizerThreadProbe(register);

    /// <summary>Its finalizer runs on .NET's finalizer thread and tells the guard which thread that is.</summary>
    private sealed class FinalizerThreadProbe(nint register)
    {
        ~FinalizerThreadProbe() => ((delegate* unmanaged<void>)register)();
    }
}
