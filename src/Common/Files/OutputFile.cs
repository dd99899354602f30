namespace RealtimeMtl.Common.Files;

/// <summary>Checks, before a run starts, that an output file or folder can be created, without touching an existing one.</summary>
public static class OutputFile
{
    /// <summary>The folder exists, the path is not a folder, and a new file can be created beside it; else one clear error.</summary>
    public static void CheckWritable(string path, string option, string example)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"{option} '{path}' is a folder; give a file name such as " +
            $"{Path.Combine(path, example)}.");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new ArgumentException($"{option} '{path}': folder '{dir}' does not exist; create it or write elsewhere.");
        var probe = Path.Combine(dir, $".rtmtl-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (File.Open(probe, FileMode.CreateNew, FileAccess.Write)) { }
            File.Delete(probe);
            // A file already there is replaced at the end: one that cannot be written (immutable, append-only) cannot be
            // replaced either, so say so now rather than after the run. Opened without truncation: nothing changes.
            if (PathIdentity.KindOf(path) == PathIdentity.Kind.Regular) using (File.Open(path, FileMode.Open, FileAccess.Write,
                FileShare.ReadWrite)) { }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new ArgumentException($"{option} '{path}' cannot be written in '{dir}' ({e.Message}); choose a writable folder.");
        }
    }

    /// <summary>Creates the output folder an option names (kept if it exists), or one clear error naming the option.</summary>
    public static void EnsureFolder(string dir, string option)
    {
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option} '{dir}' cannot be created ({e.Message}); choose a writable folder.");
        }
    }
}
