using RealtimeMtl.Common.Files;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// The files and folders a run will write (--record, --record-mcap, --save-raw, --save-pointcloud, --stats-json), checked before
/// anything opens: none may resolve to the source or to another output, and --stats-json must be writable.
/// </summary>
public static class OutputTargets
{
    public static void Check(EngineSettings s)
    {
        var outputs = new List<(string Option, string Path)>();
        if (s.Record is { } rec) outputs.Add(("--record", rec));
        if (s.RecordMcap is { } mcap) outputs.Add(("--record-mcap", mcap));
        if (s.SaveRaw is { } raw) outputs.Add(("--save-raw", raw));
        if (s.SavePointCloud is { } ply) outputs.Add(("--save-pointcloud", ply));
        if (s.StatsJson is { } json && json != "-") outputs.Add(("--stats-json", json));
        var source = SourcePath(s.Source);
        foreach (var (option, path) in outputs)
        {
            if (source is not null && PathIdentity.Same(path, source))
                throw new ArgumentException($"{option} '{path}' is the source being read; write the output somewhere else (nothing was changed).");
            if (source is not null && Directory.Exists(source) && PathIdentity.IsInside(path, source) && option is "--save-raw" or "--save-pointcloud")
                throw new ArgumentException($"{option} '{path}' is inside the source folder '{s.Source}'; write the output somewhere else.");
        }
        for (var i = 0; i < outputs.Count; i++)
            for (var j = i + 1; j < outputs.Count; j++)
                if (PathIdentity.Same(outputs[i].Path, outputs[j].Path))
                    throw new ArgumentException($"{outputs[i].Option} and {outputs[j].Option} name the same path '{outputs[i].Path}'; give each output its own.");
        // A device, FIFO or /dev/stdout is written through at the end; only a regular file (or a new one) needs a writable folder.
        if (s.StatsJson is { } stats && stats != "-" && PathIdentity.KindOf(stats) is PathIdentity.Kind.Missing or PathIdentity.Kind.Regular or PathIdentity.Kind.Directory)
            RealtimeMtl.Common.Files.OutputFile.CheckWritable(PathIdentity.Resolve(stats), "--stats-json", "stats.json");
    }

    /// <summary>The file or folder a source spec reads, when it is one (files, image folders, tum:, nyu:).</summary>
    public static string? SourcePath(string spec)
    {
        var path = spec;
        foreach (var prefix in new[] { "tum:", "nyu:", "file://" })
            if (spec.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) path = spec[prefix.Length..];
        if (path.Contains("://")) return null;
        if (path.IndexOfAny(['*', '?']) >= 0) path = Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".";
        return File.Exists(path) || Directory.Exists(path) ? PathIdentity.Resolve(path) : null;
    }

}
