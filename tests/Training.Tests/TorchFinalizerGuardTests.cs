using System.Runtime.CompilerServices;
using RealtimeMtl.Training.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Tests;

/// <summary>
/// The finalizer guard (Native/rtmtl_torch_guard.c): what .NET's finalizer thread releases is not freed under a native
/// call that may still use it. A use after free cannot be provoked on demand, so these tests pin the mechanism: the
/// guard is what TorchSharp calls in this host, and finalized temporaries go to its queue instead of being freed.
/// </summary>
[Collection(LibTorchInProcess.Name)]
public class TorchFinalizerGuardTests
{
    [Fact]
    public void TorchSharps_native_calls_go_through_the_guard_in_the_test_host()
    {
        Assert.Equal("active", TorchFinalizerGuard.Install());
        Assert.True(TorchFinalizerGuard.Active);
    }

    [Fact]
    public void Temporaries_the_finalizer_releases_are_deferred_while_explicit_disposal_frees_at_once()
    {
        TorchFinalizerGuard.Install();
        var before = TorchFinalizerGuard.Counts.Deferred;
        using var x = ones(64, 64);
        var sum = LeaveTemporariesToTheFinalizer(x, 200);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var deferred = TorchFinalizerGuard.Counts.Deferred - before;
        // 200 rounds each leave an implicit Scalar and two tensors to the finalizer.
        Assert.True(deferred >= 200, $"only {deferred} finalized LibTorch objects went through the guard");
        Assert.Equal(200 * (64 * 64 * 1.5), sum, 3);

        // Explicit disposal is not deferred.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var mid = TorchFinalizerGuard.Counts.Deferred;
        for (var i = 0; i < 100; i++)
        {
            using var two = 2.0.ToScalar();
            using var t = x.mul(two);
        }
        Assert.Equal(mid, TorchFinalizerGuard.Counts.Deferred);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double LeaveTemporariesToTheFinalizer(Tensor x, int rounds)
    {
        double sum = 0;
        for (var i = 0; i < rounds; i++) sum += (x * 0.5 + x).sum().item<float>();
        return sum;
    }
}
