using System.Diagnostics;

namespace RealtimeMtl.Common.Measuring;

/// <summary>The process's resident set and open descriptors at a frame, with the frame packets alive then; read with no managed
/// allocation, as the engine takes one every hundred frames of each camera.</summary>
public readonly record struct ResourceSample(long Frame, [property: System.Text.Json.Serialization.JsonPropertyName("working_set_mib")] double
    WorkingSetMiB, int Handles, long LivePackets)
{
    public static ResourceSample Now(long frame, long livePackets)
    {
        int handles;
        try { handles = OperatingSystem.IsLinux() ? OpenDescriptors() : Process.GetCurrentProcess().HandleCount; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException) { handles = -1; }
        var rss = OperatingSystem.IsLinux() ? ResidentBytes() : -1;
        return new ResourceSample(frame, (rss >= 0 ? rss : Environment.WorkingSet) / 1048576.0, handles, livePackets);
    }

    /// <summary>
    /// The resident set (what <see cref="Environment.WorkingSet"/> gives, which reads /proc/self/status into a string):
    /// the second field of /proc/self/statm, in pages, read into a stack buffer; -1 when it cannot be read.
    /// </summary>
    private static unsafe long ResidentBytes()
    {
        Span<byte> text = stackalloc byte[128];
        int n;
        fixed (byte* path = "/proc/self/statm\0"u8)
        {
            var fd = open(path, 0);
            if (fd < 0) return -1;
            try { fixed (byte* buffer = text) n = (int)read(fd, buffer, text.Length); }
            finally { close(fd); }
        }
        if (n <= 0) return -1;
        text = text[..n];
        var space = text.IndexOf((byte)' ');
        if (space < 0) return -1;
        text = text[(space + 1)..];
        var end = text.IndexOfAny((byte)' ', (byte)'\n');
        return System.Buffers.Text.Utf8Parser.TryParse(end < 0 ? text : text[..end], out long pages, out _)
            ? pages * Environment.SystemPageSize : -1;
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern unsafe int open(byte* path, int flags);

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern unsafe nint read(int fd, byte* buffer, nint count);

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int close(int fd);

    /// <summary>
    /// Open file descriptors: the entries of /proc/self/fd, counted through libc's opendir/readdir with no managed
    /// allocation (the engine samples it every hundred frames of each camera), less the one the
    /// count itself holds open.
    /// </summary>
    private static unsafe int OpenDescriptors()
    {
        fixed (byte* path = "/proc/self/fd\0"u8)
        {
            var dir = opendir(path);
            if (dir == IntPtr.Zero) return -1;
            var n = 0;
            try
            {
                // struct dirent on Linux: d_ino (8), d_off (8), d_reclen (2), d_type (1), then d_name.
                for (var e = readdir(dir); e != IntPtr.Zero; e = readdir(dir))
                {
                    var name = (byte*)e + 19;
                    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
                    n++;
                }
            }
            finally { closedir(dir); }
            return Math.Max(0, n - 1);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern unsafe IntPtr opendir(byte* path);

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern IntPtr readdir(IntPtr dir);

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int closedir(IntPtr dir);
}
