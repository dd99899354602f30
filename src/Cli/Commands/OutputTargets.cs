namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// The files and folders a run will write (--record, --save-raw, --save-pointcloud, --stats-json), checked before
/// anything opens: none may resolve to the source or to another output, and --stats-json must be writable.
/// </summary>
public static class OutputTargets
{
    public static void Check(EngineSettings s)
    {
        var outputs = new List<(string Option, string Path)>();
        if (s.Record is { } rec) outputs.Add(("--record", rec));
        if (s.SaveRaw is { } raw) outputs.Add(("--save-raw", raw));
        if (s.SavePointCloud is { } ply) outputs.Add(("--save-pointcloud", ply));
        if (s.StatsJson is { } json && json != "-") outputs.Add(("--stats-json", json));
        var source = SourcePath(s.Source);
        foreach (var (option, path) in outputs)
        {
            var full = Resolve(path);
            if (source is not null && Same(full, source))
                throw new ArgumentException($"{option} '{path}' is the source being read; write the output somewhere else (nothing was changed).");
            if (source is not null && Directory.Exists(source) && IsInside(full, source) && option is "--save-raw" or "--save-pointcloud")
                throw new ArgumentException($"{option} '{path}' is inside the source folder '{s.Source}'; write the output somewhere else.");
        }
        for (var i = 0; i < outputs.Count; i++)
            for (var j = i + 1; j < outputs.Count; j++)
                if (Same(Resolve(outputs[i].Path), Resolve(outputs[j].Path)))
                    throw new ArgumentException($"{outputs[i].Option} and {outputs[j].Option} name the same path '{outputs[i].Path}'; give each output its own.");
        if (s.StatsJson is { } stats && stats != "-") Pipeline.Sinks.OutputFile.CheckWritable(stats, "--stats-json", "stats.json");
    }

    /// <summary>The file or folder a source spec reads, when it is one (files, image folders, tum:, nyu:).</summary>
    public static string? SourcePath(string spec)
    {
        var path = spec;
        foreach (var prefix in new[] { "tum:", "nyu:", "file://" })
            if (spec.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) path = spec[prefix.Length..];
        if (path.Contains("://")) return null;
        if (path.IndexOfAny(['*', '?']) >= 0) path = Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".";
        return File.Exists(path) || Directory.Exists(path) ? Resolve(path) : null;
    }

    /// <summary>Writes the run's figures to a temporary file beside the target, then renames it: a reader never sees half a file.</summary>
    public static void WriteAtomically(string path, string text)
    {
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    private static string Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var info = new FileInfo(full);
            if (info.Exists && info.ResolveLinkTarget(true) is { } target) return target.FullName;
            var dirInfo = new DirectoryInfo(full);
            if (dirInfo.Exists && dirInfo.ResolveLinkTarget(true) is { } dtarget) return dtarget.FullName;
        }
        catch (IOException) { }
        return full.TrimEnd('/');
    }

    private static bool Same(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal);

    private static bool IsInside(string child, string parent) =>
        child.TrimEnd('/').StartsWith(parent.TrimEnd('/') + "/", StringComparison.Ordinal);
}
