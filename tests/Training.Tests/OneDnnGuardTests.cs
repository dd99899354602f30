using System.Diagnostics;
using RealtimeMtl.Inference.Host;
using RealtimeMtl.Training.Native;

namespace RealtimeMtl.Training.Tests;

/// <summary>
/// The oneDNN decision of rtmtl-train's start-up. A VM without CPU cache information is simulated through a sysfs
/// root the test writes; the known-answer check is injected where a test needs it to fail, and run for real where it
/// must pass.
/// </summary>
public class OneDnnGuardTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rtmtl-cpu-").FullName;

    public void Dispose() => Directory.Delete(_root, true);

    private CpuFacts Machine(bool withCache)
    {
        var proc = Directory.CreateDirectory(Path.Combine(_root, "proc")).FullName;
        File.WriteAllText(Path.Combine(proc, "cpuinfo"), """
            processor	: 0
            model name	: AMD EPYC 9R14
            flags		: fpu sse sse2 sse4_1 sse4_2 avx avx2 avx512f avx512bw avx512_vnni
            
            processor	: 1
            model name	: AMD EPYC 9R14
            flags		: fpu sse sse2 sse4_1 sse4_2 avx avx2 avx512f avx512bw avx512_vnni
            """);
        var cpu0 = Directory.CreateDirectory(Path.Combine(_root, "sys", "devices", "system", "cpu", "cpu0")).FullName;
        if (withCache)
        {
            var index = Directory.CreateDirectory(Path.Combine(cpu0, "cache", "index0")).FullName;
            File.WriteAllText(Path.Combine(index, "size"), "32K\n");
        }
        return CpuFacts.Read(Path.Combine(_root, "sys"), proc);
    }

    [Fact]
    public void Cpu_facts_read_the_model_the_isa_and_whether_cache_information_exists()
    {
        var vm = Machine(withCache: false);
        Assert.Equal("AMD EPYC 9R14", vm.Model);
        Assert.Equal("AVX-512 (VNNI)", vm.BestIsa);
        Assert.Equal(2, vm.LogicalCores);
        Assert.False(vm.HasCacheInfo);
        Assert.True(Machine(withCache: true).HasCacheInfo);
    }

    [Fact]
    public void Missing_cache_information_caps_oneDNN_at_SSE41_without_running_the_check()
    {
        var checks = 0;
        var d = OneDnnGuard.Decide(Machine(withCache: false), _ => { checks++; return KnownAnswerOutcome.Pass("unused"); }, mode: null,
            userIsa: null);
        Assert.Equal("SSE41", d.MaxIsa);
        Assert.True(d.Constrained);
        Assert.Contains("no CPU cache information", d.Cause);
        Assert.Contains(Path.Combine(_root, "sys"), d.Cause);
        Assert.Equal(0, checks);
    }

    [Fact]
    public void A_machine_with_cache_information_runs_the_check_and_stays_uncapped_when_it_passes()
    {
        var asked = new List<string?>();
        var d = OneDnnGuard.Decide(Machine(withCache: true), isa => { asked.Add(isa); return KnownAnswerOutcome.Pass("5 convolutions match"); }, null,
            null);
        Assert.Null(d.MaxIsa);
        Assert.False(d.Constrained);
        Assert.Equal([null], asked);
    }

    [Fact]
    public void A_failed_or_crashed_check_caps_oneDNN_and_names_the_failure()
    {
        var wrong = new KnownAnswerOutcome(false, false, 1, "wrong results: 1x1: max |difference| 3.2");
        var d = OneDnnGuard.Decide(Machine(withCache: true), isa => isa is null ? wrong : KnownAnswerOutcome.Pass("ok with the cap"), null, null);
        Assert.Equal("SSE41", d.MaxIsa);
        Assert.Contains("1x1: max |difference| 3.2", d.Cause);
        Assert.DoesNotContain("WARNING", d.Cause);

        var crash = new KnownAnswerOutcome(false, true, 136, "the check process was killed by SIGFPE");
        var stillWrong = OneDnnGuard.Decide(Machine(withCache: true), _ => crash, null, null);
        Assert.Equal("SSE41", stillWrong.MaxIsa);
        Assert.Contains("SIGFPE", stillWrong.Cause);
        Assert.Contains("WARNING", stillWrong.Cause); // the cap did not help either: say so
    }

    [Fact]
    public void The_user_can_force_a_cap_skip_the_check_or_keep_their_own_variable()
    {
        Assert.Null(OneDnnGuard.Decide(Machine(false), _ => throw new InvalidOperationException("no check"), "native", null).MaxIsa);
        Assert.Equal("AVX2", OneDnnGuard.Decide(Machine(true), _ => throw new InvalidOperationException("no check"), "avx2", null).MaxIsa);
        var own = OneDnnGuard.Decide(Machine(false), _ => throw new InvalidOperationException("no check"), null, "AVX512_CORE");
        Assert.Equal("AVX512_CORE", own.MaxIsa);
        Assert.False(own.Constrained); // the user's choice: nothing to announce, nothing overwritten
    }

    [Fact]
    public void A_check_process_killed_by_a_signal_is_reported_as_a_crash()
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("kill -FPE $$");
        var outcome = KnownAnswerChild.Run(psi);
        Assert.False(outcome.Passed);
        Assert.True(outcome.Crashed);
        Assert.Contains("SIGFPE", outcome.Detail);
    }

    [Fact]
    public void The_real_check_passes_in_a_child_process_with_the_cap_this_process_runs_with()
    {
        // The module initialiser applied this machine's decision; the check must pass under it (or under none).
        var outcome = KnownAnswerChild.Run(KnownAnswerChild.Command(OneDnnGuard.Current?.MaxIsa));
        Assert.True(outcome.Passed, outcome.Detail);
    }

    [Fact]
    public void The_reference_convolution_agrees_with_LibTorch_in_this_process()
    {
        var results = ConvolutionKnownAnswer.Run();
        Assert.Equal(ConvolutionKnownAnswer.Cases.Count, results.Count);
        Assert.All(results, r => Assert.True(r.Ok, ConvolutionKnownAnswer.Describe(r)));
    }

    [Fact]
    public void The_reference_convolution_follows_dilation_and_padding()
    {
        // One input channel, a 5x5 image holding its own pixel index, a 3x3 kernel with only the centre and the
        // top-left tap: with dilation 2 the top-left tap reads two pixels up and two left (zero outside).
        var c = new ConvolutionCase("probe", 1, 1, 1, 5, 5, 3, 1, 2);
        var x = Enumerable.Range(0, 25).Select(i => (float)i).ToArray();
        var w = new float[9];
        w[4] = 1; w[0] = 10;
        var y = ConvolutionKnownAnswer.Reference(c, x, w);
        Assert.Equal(25, y.Length);
        Assert.Equal(0f, y[0]);                    // centre 0, top-left outside
        Assert.Equal(12f + 10 * 0f, y[12]);        // centre (2,2) = 12, top-left (0,0) = 0
        Assert.Equal(24f + 10 * 12f, y[24]);       // centre (4,4) = 24, top-left (2,2) = 12
    }
}
