using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Inference.Host;

namespace RealtimeMtl.Training.Native;

/// <summary>
/// rtmtl-train's second start-up step, before LibTorch runs its first convolution: decide whether oneDNN is safe on
/// this machine and cap it when it is not (ONEDNN_MAX_CPU_ISA=SSE41, the cheapest setting that removes both the wrong
/// results and the SIGFPE; docs/onednn.md has the measurements). The decision rests on evidence, never on a vendor:
/// <list type="number">
/// <item>the kernel exposes no CPU cache information (what oneDNN's blocking heuristics divide by);</item>
/// <item>otherwise a known-answer check of a few convolutions in a child process (<see cref="ConvolutionKnownAnswer"/>),
/// whose answer is kept per CPU and LibTorch build in ~/.cache/rtmtl.</item>
/// </list>
/// RTMTL_ONEDNN=native skips the check (full speed, at your own risk); RTMTL_ONEDNN=&lt;isa&gt; forces a cap; a
/// user's own ONEDNN_MAX_CPU_ISA is kept. LibTorch's repeated warnings (NNPACK's "Unsupported hardware") are
/// silenced through TORCH_CPP_LOG_LEVEL unless --verbose. Both variables are read by native code when LibTorch
/// loads, so they go through libc's setenv (.NET's own environment does not reach native code).
/// </summary>
public static class OneDnnGuard
{
    public const string SafeIsa = "SSE41";
    private static OneDnnDecision? _current;

    /// <summary>The decision this process runs with (null before <see cref="Prepare"/>).</summary>
    public static OneDnnDecision? Current => _current;

    /// <summary>Decides, applies and (when it caps oneDNN) says so in one line. Idempotent within a process.</summary>
    public static OneDnnDecision Prepare(bool verbose, IEventLog? log = null, CpuFacts? cpu = null,
        Func<string?, KnownAnswerOutcome>? check = null, string? mode = null)
    {
        if (_current is { } done) return done;
        log ??= TextEventLog.StandardError;
        if (!verbose && Environment.GetEnvironmentVariable("TORCH_CPP_LOG_LEVEL") is null) SetNative("TORCH_CPP_LOG_LEVEL", "ERROR");
        var decision = Decide(cpu ?? CpuFacts.Read(), check ?? CachedCheck, mode ?? Environment.GetEnvironmentVariable("RTMTL_ONEDNN"),
            Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA"));
        if (decision.MaxIsa is { } isa && !decision.ChosenByUser) SetNative("ONEDNN_MAX_CPU_ISA", isa);
        if (decision.Constrained) log.Info($"rtmtl-train: oneDNN limited to {decision.MaxIsa}: {decision.Cause}");
        if (verbose) foreach (var e in decision.Evidence) log.Info($"rtmtl-train: oneDNN: {e}");
        _current = decision;
        return decision;
    }

    /// <summary>
    /// The decision alone. <paramref name="check"/> runs the known-answer check with a given cap (null: none).
    /// <paramref name="mode"/> is RTMTL_ONEDNN (auto, native or an ISA name); <paramref name="userIsa"/> is an
    /// ONEDNN_MAX_CPU_ISA the user set.
    /// </summary>
    public static OneDnnDecision Decide(CpuFacts cpu, Func<string?, KnownAnswerOutcome> check, string? mode, string? userIsa)
    {
        var evidence = new List<string> { $"CPU {cpu.Model}, {cpu.BestIsa}", cpu.HasCacheInfo ? $"cache information present ({cpu.CachePath})"
            : $"no cache information ({cpu.CachePath} is missing or empty)" };
        if (userIsa is { Length: > 0 })
            return new OneDnnDecision(userIsa, $"ONEDNN_MAX_CPU_ISA={userIsa} set by the user", evidence, ChosenByUser: true);
        mode = (mode ?? "auto").Trim();
        if (mode.Equals("native", StringComparison.OrdinalIgnoreCase))
            return new OneDnnDecision(null, "RTMTL_ONEDNN=native: oneDNN left uncapped without a check", evidence);
        if (!mode.Equals("auto", StringComparison.OrdinalIgnoreCase) && mode.Length > 0)
            return new OneDnnDecision(mode.ToUpperInvariant(), $"RTMTL_ONEDNN={mode} asked for this cap", evidence);
        if (!cpu.HasCacheInfo)
            return new OneDnnDecision(SafeIsa,
                $"this machine exposes no CPU cache information ({cpu.CachePath}), and oneDNN's convolutions then give wrong results or crash " +
                    $"(SIGFPE); training stays correct at about half the speed (docs/onednn.md)",
                evidence);
        var outcome = check(null);
        evidence.Add($"known-answer check: {outcome.Detail}");
        if (outcome.Passed) return new OneDnnDecision(null, "oneDNN passed the known-answer convolution check", evidence);
        var capped = check(SafeIsa);
        evidence.Add($"known-answer check with ONEDNN_MAX_CPU_ISA={SafeIsa}: {capped.Detail}");
        var cause = $"its convolutions failed a known-answer check on this machine ({outcome.Detail})";
        if (!capped.Passed) cause += $"; WARNING: they still fail with the cap ({capped.Detail}), so do not trust training results here";
        return new OneDnnDecision(SafeIsa, cause, evidence);
    }

    /// <summary>The known-answer check, its answer kept per CPU model, flags and LibTorch build.</summary>
    private static KnownAnswerOutcome CachedCheck(string? maxIsa)
    {
        var file = CacheFile(maxIsa);
        if (file is not null && File.Exists(file))
        {
            try
            {
                if (JsonSerializer.Deserialize<KnownAnswerOutcome>(File.ReadAllText(file)) is { } cached) return cached with
                {
                    Detail = cached.Detail
                    + " (cached)"
                };
            }
            catch (JsonException) { }
        }
        var outcome = KnownAnswerChild.Run(KnownAnswerChild.Command(maxIsa));
        if (file is not null)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                RealtimeMtl.Common.Files.AtomicFile.Write(file, JsonSerializer.Serialize(outcome));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return outcome;
    }

    private static string? CacheFile(string? maxIsa)
    {
        var home = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
            : Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? Path.Combine(h, ".cache") : null;
        if (home is null) return null;
        var cpu = CpuFacts.Read();
        var lib = LibTorchCpu();
        var key = $"v1|{cpu.Model}|{string.Join(' ', cpu.Flags.Order(StringComparer.Ordinal))}|{lib?.Length}|{lib?.LastWriteTimeUtc.Ticks}|{maxIsa}";
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16].ToLowerInvariant();
        return Path.Combine(home, "rtmtl", $"onednn-check-{hash}.json");
    }

    private static FileInfo? LibTorchCpu()
    {
        var dir = Path.GetDirectoryName(typeof(OneDnnGuard).Assembly.Location)!;
        foreach (var rel in new[] { "runtimes/linux-x64/native/libtorch_cpu.so", "cpu/libtorch_cpu.so", "libtorch_cpu.so" })
            if (new FileInfo(Path.Combine(dir, rel)) is { Exists: true } f) return f;
        return null;
    }

    private static void SetNative(string name, string value)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = setenv(name, value, 1);
        Environment.SetEnvironmentVariable(name, value);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
