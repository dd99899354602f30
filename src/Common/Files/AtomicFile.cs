namespace RealtimeMtl.Common.Files;

/// <summary>
/// The one way rtmtl writes a whole file: into a temporary file beside the target, then renamed over it, so a reader
/// (or a crash) never sees half a file and a failed write never destroys what was there. A symbolic link is followed
/// to what it names; a device, FIFO or /dev/stdout is written through as it is, never replaced. Write errors (a full
/// disk) propagate, after the temporary file is removed.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var target = PathIdentity.Resolve(path);
        if (PathIdentity.KindOf(target) == PathIdentity.Kind.Other)
        {
            using var stream = new FileStream(target, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
            stream.Write(bytes);
            stream.Flush();
            return;
        }
        var temp = Path.Combine(Path.GetDirectoryName(target)!,
            $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: false);
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            try { if (File.Exists(temp)) File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public static void Write(string path, string text) => Write(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Each line followed by a newline, as <see cref="File.WriteAllLines(string, IEnumerable{string})"/> writes them.</summary>
    public static void WriteLines(string path, IEnumerable<string> lines)
        => Write(path, string.Concat(lines.Select(l => l + Environment.NewLine)));
}
