namespace RealtimeMtl.Inference.Host;

/// <summary>
/// What the kernel says about this machine's processor: model name, instruction-set flags and whether it exposes
/// the cache sizes. Cache information matters because LibTorch's oneDNN sizes its convolution blocking from it; on
/// virtual machines that hide it (no <c>/sys/devices/system/cpu/cpu0/cache/</c>) oneDNN divides by zero or picks
/// wrong kernels. The roots are injectable so that such a machine can be simulated in a test.
/// </summary>
public sealed record CpuFacts(string Model, IReadOnlySet<string> Flags, bool HasCacheInfo, string CachePath, int LogicalCores)
{
    /// <summary>The best vector instruction set the flags announce, in the names users know.</summary>
    public string BestIsa => Flags.Contains("avx512f") ? (Flags.Contains("avx512_vnni") || Flags.Contains("avx512vnni") ? "AVX-512 (VNNI)"
        : "AVX-512")
        : Flags.Contains("avx2") ? "AVX2"
        : Flags.Contains("avx") ? "AVX"
        : Flags.Contains("sse4_1") ? "SSE4.1"
        : "SSE2";

    /// <summary>
    /// Reads /proc/cpuinfo and the sysfs cache folder under the given roots (default: this machine; RTMTL_SYSFS_ROOT
    /// points the sysfs side elsewhere, to see what rtmtl-train and doctor decide on a machine without cache information).
    /// </summary>
    public static CpuFacts Read(string? sysRoot = null, string procRoot = "/proc")
    {
        sysRoot ??= Environment.GetEnvironmentVariable("RTMTL_SYSFS_ROOT") is { Length: > 0 } r ? r : "/sys";
        var model = "unknown";
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var cores = 0;
        var cpuinfo = Path.Combine(procRoot, "cpuinfo");
        if (File.Exists(cpuinfo))
        {
            foreach (var line in File.ReadLines(cpuinfo))
            {
                var colon = line.IndexOf(':');
                if (colon < 0) continue;
                var key = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (key == "processor") cores++;
                else if (key == "model name" && model == "unknown") model = value;
                else if (key == "flags" && flags.Count == 0) flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }
        var cache = Path.Combine(sysRoot, "devices", "system", "cpu", "cpu0", "cache");
        return new CpuFacts(model, flags, HasCacheLevels(cache), cache, Math.Max(cores, 1));
    }

    /// <summary>True when the folder lists at least one cache level with a non-zero size.</summary>
    private static bool HasCacheLevels(string cacheDir)
    {
        if (!Directory.Exists(cacheDir)) return false;
        foreach (var index in Directory.EnumerateDirectories(cacheDir, "index*"))
        {
            var size = Path.Combine(index, "size");
            if (File.Exists(size) && File.ReadAllText(size).Trim() is { Length: > 0 } s && s != "0K" && s != "0") return true;
        }
        return false;
    }
}
