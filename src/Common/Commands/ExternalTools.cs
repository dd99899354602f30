namespace RealtimeMtl.Common.Commands;

/// <summary>Programs the engine runs as children (ffmpeg, ffprobe), found on PATH: one search for every element.</summary>
public static class ExternalTools
{
    /// <summary>The full path of <paramref name="name"/> on PATH (or /usr/bin when PATH is unset), or null.</summary>
    public static string? Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
