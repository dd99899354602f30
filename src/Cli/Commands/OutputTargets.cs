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
        // Every output of every camera against every input of every camera, however each was given (--source,
        // {camera} paths, a --cameras file's record:), and against each other.
        var cameras = s.Cameras.Count > 0 ? s.Cameras : [new NamedSource("cam0", s.Source)];
        var several = cameras.Count > 1;
        var outputs = new List<(string Who, string Option, string Path)>();
        if (s.RecordMcap is { } mcap) outputs.Add(("", "--record-mcap", mcap));
        if (s.GridRecord is { } grid) outputs.Add(("", "--record", grid));
        if (s.StatsJson is { } json && json != "-") outputs.Add(("", "--stats-json", json));
        foreach (var camera in cameras)
        {
            var c = s.ForCamera(camera);
            var who = several ? $"camera {camera.Name}'s " : "";
            if (c.Record is { } rec) outputs.Add((who, camera.Record is not null ? "record:" : "--record", rec));
            if (c.SaveRaw is { } raw) outputs.Add((who, "--save-raw", raw));
            if (c.SavePointCloud is { } ply) outputs.Add((who, "--save-pointcloud", ply));
        }
        var inputs = cameras.Select(c => (c.Name, Path: SourcePath(c.Spec))).Where(i => i.Path is not null).ToList();
        foreach (var (who, option, path) in outputs)
            foreach (var (name, source) in inputs)
            {
                var whose = several ? $"camera {name}'s source" : "the source being read";
                if (PathIdentity.Same(path, source!))
                    throw new ArgumentException($"{who}{option} '{path}' is {whose}; write the output somewhere else (nothing was changed).");
                if (Directory.Exists(source) && PathIdentity.IsInside(path, source!) && option is "--save-raw" or "--save-pointcloud")
                    throw new ArgumentException($"{who}{option} '{path}' is inside {whose} folder '{source}'; write the output somewhere else.");
            }
        for (var i = 0; i < outputs.Count; i++)
            for (var j = i + 1; j < outputs.Count; j++)
                if (PathIdentity.Same(outputs[i].Path, outputs[j].Path))
                    throw new ArgumentException($"{outputs[i].Who}{outputs[i].Option} and {outputs[j].Who}{outputs[j].Option} name the same path "
                        + $"'{outputs[i].Path}'; give each output its own.");
        // A device, FIFO or /dev/stdout is written through at the end; only a regular file (or a new one) needs a writable folder.
        if (s.StatsJson is { } stats && stats != "-" && PathIdentity.KindOf(stats) is PathIdentity.Kind.Missing or PathIdentity.Kind.Regular or
            PathIdentity.Kind.Directory)
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
