using System.Runtime.InteropServices;

namespace RealtimeMtl.Common.Files;

/// <summary>
/// What a path really names: every component's symbolic links resolved (realpath of the deepest existing folder,
/// then the rest), and where the file exists its identity (device and inode), so that a source reached through a
/// linked folder, or a hard link to it, is recognised as the same file as its real path.
/// </summary>
public static class PathIdentity
{
    public enum Kind { Missing, Regular, Directory, Other }

    /// <summary>The absolute path with the links of every existing component resolved.</summary>
    public static string Resolve(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        if (full.Length == 0) return "/";
        var existing = full;
        var tail = new Stack<string>();
        while (existing.Length > 1 && RealPath(existing) is null)
        {
            tail.Push(Path.GetFileName(existing));
            existing = Path.GetDirectoryName(existing) ?? "/";
        }
        var resolved = RealPath(existing) ?? existing;
        while (tail.Count > 0) resolved = Path.Combine(resolved, tail.Pop());
        return resolved.Length > 1 ? resolved.TrimEnd('/') : resolved;
    }

    /// <summary>True when both paths name the same file or folder (resolved path, or device and inode).</summary>
    public static bool Same(string a, string b)
    {
        var (ra, rb) = (Resolve(a), Resolve(b));
        if (string.Equals(ra, rb, StringComparison.Ordinal)) return true;
        return Stat(ra) is { } sa && Stat(rb) is { } sb && sa.Device == sb.Device && sa.Inode == sb.Inode;
    }

    /// <summary>True when <paramref name="child"/> lies inside the folder <paramref name="parent"/> (both resolved).</summary>
    public static bool IsInside(string child, string parent)
    {
        var p = Resolve(parent);
        return Resolve(child).StartsWith(p == "/" ? "/" : p + "/", StringComparison.Ordinal);
    }

    /// <summary>What the path is after following links: missing, a regular file, a folder, or something else (a device, FIFO, socket).</summary>
    public static Kind KindOf(string path) => Stat(path) is not { } s ? Kind.Missing
        : (s.Mode & 0xF000) switch { 0x8000 => Kind.Regular, 0x4000 => Kind.Directory, _ => Kind.Other };

    /// <summary>The device and inode of what the path names now (null when it does not exist).</summary>
    public static (ulong Device, ulong Inode)? Id(string path) => Stat(path) is { } s ? (s.Device, s.Inode) : null;

    /// <summary>
    /// Where an open file is now, whatever happened to the path it was opened by (a folder moved, or swapped for a
    /// link): the kernel's own name for it (/proc/self/fd). Null where that is not known.
    /// </summary>
    public static string? WhereOpen(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux() || handle.IsInvalid || handle.IsClosed) return null;
        try { return new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// A name for an open file that stays with the file (/proc/PID/fd/N): a helper program given it writes into the
    /// file this process opened, even if its folder is moved or swapped for a link meanwhile. Null where there is none.
    /// </summary>
    public static string? PinnedName(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux() || handle.IsInvalid || handle.IsClosed) return null;
        var name = $"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}";
        return File.Exists(name) ? name : null;
    }

    private readonly record struct StatFigures(ulong Device, ulong Inode, uint Mode);

    private static unsafe StatFigures? Stat(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var buffer = stackalloc byte[256];
        if (stat(path, buffer) != 0) return null;
        // struct stat: st_dev and st_ino lead on every Linux ABI; st_mode follows st_nlink (8 bytes) on x86-64 and
        // precedes a 4-byte st_nlink on the generic ABI (arm64).
        var modeOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
        return new StatFigures(*(ulong*)buffer, *(ulong*)(buffer + 8), *(uint*)(buffer + modeOffset));
    }

    private static string? RealPath(string path)
    {
        var p = realpath(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { free(p); }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int stat(string path, byte* buffer);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr realpath(string path, IntPtr resolved);

    [DllImport("libc")]
    private static extern void free(IntPtr p);
}
