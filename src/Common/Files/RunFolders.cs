using System.Globalization;

namespace RealtimeMtl.Common.Files;

/// <summary>
/// Numbered run folders (runs/run/run-1, runs/run/run-2, ... and runs/train/train-N), as Ultralytics does: every run
/// gets a new folder, so no run ever overwrites an earlier one, and ROOT/latest is a symbolic link to the newest; engine
/// runs and training runs have separate roots, so each latest link is of its kind.
/// </summary>
public static class RunFolders
{
    /// <summary>Creates and returns ROOT/PREFIX-N with N one above the highest number already there.</summary>
    public static string Next(string root, string prefix)
    {
        var path = NextName(root, prefix);
        try { Directory.CreateDirectory(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot create the run folder '{path}' ({e.Message}); run from a writable folder.", e);
        }
        return path;
    }

    /// <summary>The name <see cref="Next"/> would create, without creating it (for a command that creates it once its inputs check out).</summary>
    public static string NextName(string root, string prefix)
    {
        var highest = 0;
        if (Directory.Exists(root))
        {
            foreach (var d in Directory.EnumerateFileSystemEntries(root, prefix + "-*"))
            {
                var name = Path.GetFileName(d);
                if (int.TryParse(name.AsSpan(prefix.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture,
                    out var n)) highest = Math.Max(highest, n);
            }
        }
        return Path.Combine(root, $"{prefix}-{highest + 1}");
    }

    /// <summary>
    /// Points ROOT/latest at <paramref name="run"/> (a relative symbolic link). A real folder
    /// named latest (an older layout) is left alone; returns whether the link was set.
    /// </summary>
    public static bool UpdateLatest(string root, string run)
    {
        var latest = Path.Combine(root, "latest");
        var info = new DirectoryInfo(latest);
        if (info.Exists && info.LinkTarget is null) return false;
        if (!info.Exists && File.Exists(latest) && new FileInfo(latest).LinkTarget is null) return false;
        try
        {
            // Remove the old link itself (never what it points to), then link the new run by its relative name.
            if (info.LinkTarget is not null || new FileInfo(latest).LinkTarget is not null) File.Delete(latest);
            File.CreateSymbolicLink(latest, Path.GetFileName(run));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
