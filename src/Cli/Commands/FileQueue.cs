using RealtimeMtl.Common.Files;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// A folder or glob of videos (<see cref="SourceList.VideoQueue"/>): the files run one after another through the same
/// engine settings, each into outputs of its own: with --save a subfolder of one run folder named after the file
/// (runs/run/run-N/NAME/annotated.mp4, raw/, stats.json, args.json), and any --record, --record-mcap, --save-raw or
/// --stats-json path with {name} in it. A file that fails is reported and the queue goes on; the exit code is 3 when
/// any failed. Ctrl+C drains the file in progress and ends the queue.
/// </summary>
public static class FileQueue
{
    public const string Placeholder = "{name}";

    /// <summary>Refuses an output path that every file would write over (no {name} in it).</summary>
    public static void CheckOutputs(int files, params (string Option, string? Path)[] outputs)
    {
        foreach (var (option, path) in outputs)
            if (path is not null && path != "-" && !path.Contains(Placeholder, StringComparison.Ordinal))
                throw new ArgumentException($"{option} '{path}' would be written by each of the {files} files of the queue; put {Placeholder} in " +
                    $"the path (the file's name), e.g. {option} " +
                        $"'out/{Placeholder}" +
                        (option == "--save-raw" ? "" : option == "--record-mcap" ? ".mcap" : option == "--stats-json" ? ".json" : ".mp4") +
                        "', or use --save");
    }

    public static async Task<int> RunAsync(EngineSettings s, IReadOnlyList<string> files, TextWriter output, TextWriter errors,
        CancellationToken external)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(external);
        using var signals = new RealtimeMtl.Common.Commands.TwoStageStop(errors,
            "stopping: finishing the file in progress, then ending the queue (press Ctrl+C again to exit at once)", stop.Cancel);
        string? dir = null;
        if (s.Save)
        {
            dir = RunFolders.Next(EngineSettings.RunsRoot, "run");
            RunFolders.UpdateLatest(EngineSettings.RunsRoot, dir);
        }
        var names = new HashSet<string>();
        var failed = new List<string>();
        var done = 0;
        for (var i = 0; i < files.Count && !stop.IsCancellationRequested; i++)
        {
            var file = files[i];
            var name = Path.GetFileNameWithoutExtension(file);
            if (!names.Add(name)) name = $"{name}_{i + 1}";
            errors.WriteLine($"file {i + 1}/{files.Count}: {file}");
            // A path with {name} in it is the queue's: its folder is made for each file (as {camera} paths are per camera).
            string? Each(string? path)
            {
                if (path is null || !path.Contains(Placeholder, StringComparison.Ordinal)) return path;
                var each = path.Replace(Placeholder, name, StringComparison.Ordinal);
                if (Path.GetDirectoryName(Path.GetFullPath(each)) is { } parent) Directory.CreateDirectory(parent);
                return each;
            }
            var folder = dir is null ? null : Path.Combine(dir, name);
            if (folder is not null) Directory.CreateDirectory(folder);
            var each = s with
            {
                Source = file,
                Cameras = [new NamedSource("cam0", file)],
                Save = false,
                RunFolder = folder,
                Record = Each(s.Record) ?? (folder is null ? null : Path.Combine(folder, "annotated.mp4")),
                RecordMcap = Each(s.RecordMcap) ?? (folder is null ? null : Path.Combine(folder, "recording.mcap")),
                SaveRaw = Each(s.SaveRaw) ?? (folder is null ? null : Path.Combine(folder, "raw")),
                StatsJson = Each(s.StatsJson) ?? (folder is null ? null : Path.Combine(folder, "stats.json")),
            };
            var code = await EngineRunner.RunAsync(each, output, errors, stop.Token, new EngineHooks { HandleSignals = false });
            if (code == 0) done++;
            else failed.Add($"{Path.GetFileName(file)} (exit {code})");
        }
        var skipped = files.Count - done - failed.Count;
        output.WriteLine($"queue   {files.Count} files: {done} finished, {failed.Count} " +
            $"failed{(failed.Count > 0 ? ": " + string.Join(", ", failed) : "")}{(skipped > 0 ? $", {skipped} not started (stopped)" : "")}" +
            $"{(dir is null ? "" : $"; outputs in {dir}")}");
        return failed.Count > 0 ? 3 : 0;
    }
}
