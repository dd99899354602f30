using RealtimeMtl.Capture.Sources;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// Sources as users give them, before they become cameras: a <c>.streams</c> text file (one source a line, optionally
/// NAME=SOURCE; blank lines and # comments skipped) stands for its lines, each a camera of the run; a folder or glob
/// that holds videos (and no images) is a queue of files, processed one after another (<see cref="FileQueue"/>).
/// </summary>
public static class SourceList
{
    public static readonly string[] VideoExtensions = [".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".ts", ".mpg", ".mpeg", ".flv", ".wmv"];

    /// <summary>The --source values with every .streams file replaced by its lines.</summary>
    public static List<string> ExpandStreams(IReadOnlyList<string> values)
    {
        var all = new List<string>();
        foreach (var v in values)
        {
            var eq = v.IndexOf('=');
            var path = eq > 0 && !v.Contains("://", StringComparison.Ordinal) ? v[(eq + 1)..] : v;
            if (!path.EndsWith(".streams", StringComparison.OrdinalIgnoreCase)) { all.Add(v); continue; }
            if (!File.Exists(path)) throw new ArgumentException($"--source '{path}' does not exist; a .streams file lists one source (URL, camera " +
                $"or file) a line");
            var lines = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
            if (lines.Count == 0) throw new ArgumentException($"--source '{path}' lists no source; write one URL, camera or file a line");
            all.AddRange(lines);
        }
        return all;
    }

    /// <summary>The videos of a folder or glob in natural order, when it holds videos and no images; else null (an image folder, a file, a
    /// URL).</summary>
    public static List<string>? VideoQueue(string spec)
    {
        if (spec.Contains("://", StringComparison.Ordinal) || spec.Contains(':') && !spec.StartsWith('/') && !spec.StartsWith('.')) return null;
        string dir, pattern;
        if (Directory.Exists(spec)) (dir, pattern) = (spec, "*");
        else if (spec.IndexOfAny(['*', '?']) >= 0)
        {
            dir = Path.GetDirectoryName(spec) is { Length: > 0 } d ? d : ".";
            pattern = Path.GetFileName(spec);
            if (!Directory.Exists(dir)) return null;
        }
        else return null;
        var files = Directory.EnumerateFiles(dir, pattern).ToList();
        if (ImageFolderSource.ListFiles(spec).Count > 0) return null;
        var videos = files.Where(f => VideoExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .OrderBy(f => Path.GetFileName(f), NaturalStringComparer.Instance).ToList();
        return videos.Count > 0 ? videos : null;
    }
}
