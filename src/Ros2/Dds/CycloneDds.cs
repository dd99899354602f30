using System.Reflection;
using System.Runtime.InteropServices;

namespace RealtimeMtl.Ros2.Dds;

/// <summary>
/// Eclipse Cyclone DDS (libddsc 0.10, Debian's libddsc0debian), the DDS of ROS 2's rmw_cyclonedds_cpp, and the
/// engine's shim over it (librtmtl_dds.so, built from Native/rtmtl_dds.c), which carries the CDR the engine writes as
/// the samples of a topic. <see cref="EnsureAvailable"/> is the one check, with the one install line.
/// </summary>
public static partial class CycloneDds
{
    private const string Ddsc = "ddsc";
    private const string Shim = "rtmtl_dds";
    public const int ShimVersion = 1;

    /// <summary>What to install when DDS is missing: the library, the headers the shim builds against, and gcc.</summary>
    public const string InstallLine = "sudo apt-get install -y libddsc0debian cyclonedds-dev gcc && ./rtmtl build";

    private static readonly Lazy<string?> Missing = new(Probe);

    static CycloneDds() => NativeLibrary.SetDllImportResolver(typeof(CycloneDds).Assembly, Resolve);

    /// <summary>Cyclone's version when it loads (e.g. 0.10.2), else null.</summary>
    public static string? Version { get; private set; }

    /// <summary>Where the shim was found, when it was.</summary>
    public static string? ShimPath { get; private set; }

    /// <summary>Null when DDS works here, else why not (one sentence).</summary>
    public static string? WhyUnavailable => Missing.Value;

    /// <summary>Throws <see cref="DdsUnavailableException"/> naming what is missing and the install line.</summary>
    public static void EnsureAvailable(string what)
    {
        if (Missing.Value is { } why) throw new DdsUnavailableException($"{what} needs Eclipse Cyclone DDS, and {why}; install it with: "
            + $"{InstallLine}");
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "this build of the DDS shim is for Linux";
        if (LoadDdsc() == IntPtr.Zero) return "libddsc (Debian's libddsc0debian) is not installed";
        if (FindShim() is not { } shim) return "the engine's DDS shim (librtmtl_dds.so) was not built: cyclonedds-dev or gcc was missing at build "
            + "time";
        ShimPath = shim;
        try
        {
            if (rtmtl_dds_shim_version() != ShimVersion) return $"the DDS shim at {shim} is of another version";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return $"the DDS shim at {shim} does not load ({e.Message})";
        }
        Version = ReadVersion();
        return null;
    }

    private static string? ReadVersion()
    {
        // Debian names the library after its version: libddsc.so.0.10.2.
        foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib" })
        {
            if (!Directory.Exists(dir)) continue;
            var version = Directory.EnumerateFiles(dir, "libddsc.so*").Select(Path.GetFileName)
                .Where(f => f!.Length > "libddsc.so.".Length).Select(f => f!["libddsc.so.".Length..])
                .FirstOrDefault(v => System.Text.RegularExpressions.Regex.IsMatch(v, @"^\d+\.\d+\.\d+$"));
            if (version is not null) return version;
        }
        return "unknown";
    }

    /// <summary>libddsc from Debian's place, or RTMTL_DDSC (a Cyclone DDS 0.10 built elsewhere, or a path that is not there to run as without
    /// it).</summary>
    private static IntPtr LoadDdsc()
    {
        if (Environment.GetEnvironmentVariable("RTMTL_DDSC") is { Length: > 0 } own) return NativeLibrary.TryLoad(own,
            out var mine) ? mine : IntPtr.Zero;
        foreach (var name in new[] { "libddsc.so.0debian", "libddsc.so.0", "libddsc.so" })
            if (NativeLibrary.TryLoad(name, out var h)) return h;
        return IntPtr.Zero;
    }

    private static string? FindShim()
    {
        var candidates = new List<string?>
        {
            Environment.GetEnvironmentVariable("RTMTL_DDS_SHIM"),
            Path.Combine(AppContext.BaseDirectory, "librtmtl_dds.so"),
            Path.Combine(Path.GetDirectoryName(typeof(CycloneDds).Assembly.Location) ?? ".", "librtmtl_dds.so"),
        };
        return candidates.FirstOrDefault(c => c is { Length: > 0 } && File.Exists(c));
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name == Ddsc) return LoadDdsc();
        if (name == Shim && FindShim() is { } shim && NativeLibrary.TryLoad(shim, out var h)) return h;
        return IntPtr.Zero;
    }

    [LibraryImport(Ddsc)] internal static partial int dds_create_participant(uint domain, IntPtr qos, IntPtr listener);
    [LibraryImport(Ddsc)] internal static partial int dds_delete(int entity);
    [LibraryImport(Shim)] private static partial int rtmtl_dds_shim_version();
    [LibraryImport(Shim, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rtmtl_dds_topic(int participant, string topic,
        string typeName);
    [LibraryImport(Shim)] internal static partial int rtmtl_dds_writer(int participant, int topic, int reliable, int depth, int transientLocal);
    [LibraryImport(Shim)]
    internal static partial int rtmtl_dds_reader(int participant, int topic, int reliable, int depth, int transientLocal,
        out int waitset);
    [LibraryImport(Shim)] internal static unsafe partial int rtmtl_dds_write(int writer, byte* cdr, uint size);
    [LibraryImport(Shim)] internal static partial int rtmtl_dds_wait(int waitset, long timeoutNs);
    [LibraryImport(Shim)]
    internal static unsafe partial int rtmtl_dds_take(int reader, out IntPtr handle, out byte* data, out uint size,
        out long sourceNs);
    [LibraryImport(Shim)] internal static partial void rtmtl_dds_release(IntPtr handle);
    [LibraryImport(Shim)] internal static partial int rtmtl_dds_matched(int writer);
    [LibraryImport(Shim)] internal static partial int rtmtl_dds_publishers(int reader);
}

/// <summary>DDS is not usable here; the message names what is missing and the install line.</summary>
public sealed class DdsUnavailableException(string message) : Exception(message);
