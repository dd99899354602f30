using System.Runtime.InteropServices;

namespace RealtimeMtl.Distributed.Worker;

/// <summary>
/// Keeps a queue from reaching outside the folders a worker was given: a job's input must resolve (symbolic links
/// followed) under <c>--input-root</c>, and its outputs under <c>--out-root</c>.
/// </summary>
public static partial class SafePaths
{
    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial IntPtr RealPath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr p);

    /// <summary>The canonical path (links resolved), or null when it does not exist.</summary>
    public static string? Canonical(string path)
    {
        var p = RealPath(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Free(p); }
    }

    public static bool IsUnder(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    /// <summary>An existing input under <paramref name="root"/>; throws <see cref="JobRefusedException"/> otherwise.</summary>
    public static string Input(string root, string relativeOrAbsolute, string what = "source")
    {
        var canonicalRoot = Canonical(root) ?? throw new JobRefusedException($"the worker's --input-root '{root}' does not exist");
        var joined = Path.GetFullPath(Path.Combine(canonicalRoot, relativeOrAbsolute));
        var resolved = Canonical(joined);
        // Refuse before saying whether it exists: a queue must not learn about files outside the root either.
        if (!IsUnder(resolved ?? joined, canonicalRoot))
            throw new JobRefusedException($"the job's {what} '{relativeOrAbsolute}' resolves outside the worker's --input-root ({canonicalRoot}); " +
                $"refused");
        if (resolved is null) throw new JobRefusedException($"the job's {what} '{relativeOrAbsolute}' does not exist under the worker's " +
            $"--input-root ({canonicalRoot})");
        return resolved;
    }

    /// <summary>The result folder for <paramref name="output"/> under <paramref name="root"/>, refusing names that climb out.</summary>
    public static string Output(string root, string output)
    {
        if (string.IsNullOrWhiteSpace(output) || Path.IsPathRooted(output) || output.Split('/', '\\').Any(p => p is ".." or "." or ""
            || p.StartsWith(".rtmtl", StringComparison.Ordinal)))
            throw new JobRefusedException($"the job's output '{output}' must be a relative folder name without '..' (it goes under the worker's " +
                $"--out-root)");
        var canonicalRoot = Canonical(root) ?? throw new JobRefusedException($"the worker's --out-root '{root}' does not exist");
        var full = Path.GetFullPath(Path.Combine(canonicalRoot, output));
        // The deepest existing ancestor must be under the root too (a symbolic link inside the root could point out).
        var probe = full;
        while (Canonical(probe) is null) probe = Path.GetDirectoryName(probe)!;
        if (!IsUnder(full, canonicalRoot) || !IsUnder(Canonical(probe)!, canonicalRoot))
            throw new JobRefusedException($"the job's output '{output}' resolves outside the worker's --out-root ({canonicalRoot}); refused");
        return full;
    }
}
