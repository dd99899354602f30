using System.Text.Json;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Distributed.Jobs;

namespace RealtimeMtl.Distributed.Worker;

/// <summary>
/// Outputs are written into <c>OUT_ROOT/.rtmtl-partial/{id}.r{run}.{worker}.{attempt}/</c> and committed by one rename
/// to <c>OUT_ROOT/{output}/</c> with a <c>job.json</c> that says which job and run made it. A redelivered job whose
/// folder is already committed is recognised and not run again; a dead worker's partial folder is removed by the
/// worker that commits the job (only earlier attempts': a later attempt may still be running, when a server outage made
/// JetStream redeliver a job that was alive). So a result folder is whole or absent, and never there twice.
/// </summary>
public sealed class ResultFolders(string outRoot)
{
    public const string PartialFolder = ".rtmtl-partial";
    public const string Marker = "job.json";

    public string Root { get; } = Path.GetFullPath(outRoot);

    public string Final(JobSpec job) => SafePaths.Output(Root, job.Output);

    public string NewPartial(JobSpec job, string worker, int attempt)
    {
        var dir = Path.Combine(Root, PartialFolder, $"{job.Id}.r{job.Run}.{Sanitise(worker)}.{attempt}");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Whether this job's run (or a later one) is already committed.</summary>
    public bool IsCommitted(JobSpec job) => ReadMarker(Final(job)) is { } m && m.Id == job.Id && m.Run >= job.Run;

    /// <summary>Commits <paramref name="partial"/>; false when another worker committed the same run first (ours is discarded).</summary>
    public bool Commit(JobSpec job, string partial, string worker, int attempt)
    {
        var final = Final(job);
        AtomicFile.Write(Path.Combine(partial, Marker), JsonSerializer.SerializeToUtf8Bytes(
            new CommitMarker(job.Id, job.Run, job.Source, worker, DateTimeOffset.UtcNow), JobJson.Indented));
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        for (var tries = 0; ; tries++)
        {
            if (IsCommitted(job))
            {
                Directory.Delete(partial, recursive: true);
                RemoveStale(job, attempt);
                return false;
            }
            string? replaced = null;
            if (Directory.Exists(final))
            {
                // An earlier run (submit --force) or another job of the same name: set aside, then replaced.
                replaced = Path.Combine(Root, PartialFolder, $"replaced.{Guid.NewGuid():N}");
                Directory.Move(final, replaced);
            }
            try
            {
                Directory.Move(partial, final);
                if (replaced is not null) Directory.Delete(replaced, recursive: true);
                RemoveStale(job, attempt);
                return true;
            }
            catch (IOException) when (tries < 3)
            {
                // Someone committed between our check and our rename: look again.
                if (replaced is not null && !Directory.Exists(final)) Directory.Move(replaced, final);
            }
        }
    }

    /// <summary>Removes partial folders of this job's run left by attempts before <paramref name="attempt"/> (a killed worker's).</summary>
    public void RemoveStale(JobSpec job, int attempt)
    {
        var dir = Path.Combine(Root, PartialFolder);
        if (!Directory.Exists(dir)) return;
        foreach (var d in Directory.GetDirectories(dir, $"{job.Id}.r{job.Run}.*"))
        {
            if (!int.TryParse(Path.GetFileName(d).Split('.')[^1], out var a) || a >= attempt) continue;
            try { Directory.Delete(d, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public static CommitMarker? ReadMarker(string folder)
    {
        try { return JsonSerializer.Deserialize<CommitMarker>(File.ReadAllBytes(Path.Combine(folder, Marker)), JobJson.Options); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    private static string Sanitise(string s) => new(s.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());

    public sealed record CommitMarker(string Id, int Run, string Source, string Worker, DateTimeOffset CommittedAt);
}
