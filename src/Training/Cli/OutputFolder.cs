namespace RealtimeMtl.Training.Cli;

/// <summary>Creates an output folder or says, in one sentence, why it cannot and what to do.</summary>
internal static class OutputFolder
{
    public static string Ensure(string path, string option)
    {
        try
        {
            Directory.CreateDirectory(path);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot create the folder '{path}' ({Reason(path, e)}); choose another {option}.", e);
        }
    }

    /// <summary>Ensures the folder that will hold <paramref name="file"/> exists.</summary>
    public static void EnsureParent(string file, string option)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(file));
        if (!string.IsNullOrEmpty(dir)) Ensure(dir, option);
    }

    internal static string Reason(string path, Exception e)
    {
        if (e is UnauthorizedAccessException) return "permission denied";
        var parent = new DirectoryInfo(Path.GetFullPath(path));
        while (parent is not null && !parent.Exists) parent = parent.Parent;
        if (parent is not null && parent.FullName is var p && (p == "/proc" || p.StartsWith("/proc/", StringComparison.Ordinal) || p == "/sys"
            || p.StartsWith("/sys/", StringComparison.Ordinal)))
            return $"{p} is a kernel file system that takes no new files";
        if (e.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase)) return "read-only file system";
        if (e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)) return "no space left on the device";
        if (File.Exists(Path.GetFullPath(path))) return "a file of that name is in the way";
        return e.Message.TrimEnd('.');
    }
}
