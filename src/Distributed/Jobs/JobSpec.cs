using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RealtimeMtl.Distributed.Jobs;

/// <summary>
/// One unit of work on the queue, as JSON (snake_case). <see cref="Source"/> is a path relative to the workers'
/// <c>--input-root</c> or a stream URL; <see cref="Output"/> names the result folder under <c>--out-root</c> (the
/// source's name, so a person finds it without the job table).
/// </summary>
public sealed record JobSpec
{
    public const int SchemaVersion = 1;

    public int Schema { get; init; } = SchemaVersion;
    public required string Id { get; init; }
    public required string Source { get; init; }
    public JobKind Kind { get; init; } = JobKind.File;
    /// <summary>Result folder, relative to the out root (and the camera name published on the bus).</summary>
    public required string Output { get; init; }
    /// <summary>Model path under the input root; null: the shipped model.</summary>
    public string? Model { get; init; }
    public JobOptions Options { get; init; } = new();
    /// <summary>Bumped by <c>submit --force</c>: the same job, run again.</summary>
    public int Run { get; init; } = 1;
    public DateTimeOffset SubmittedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The id is a digest of what the job does, so submitting the same work twice is recognised.</summary>
    public static string IdFor(string source, JobKind kind, string output, string? model, JobOptions options)
    {
        var canonical = JsonSerializer.Serialize(new { source, kind, output, model, options }, JobJson.Options);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
    }

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, JobJson.Options);

    /// <summary>Reads a job; malformed JSON or a missing field is an <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static JobSpec Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var job = JsonSerializer.Deserialize<JobSpec>(utf8, JobJson.Options) ?? throw new InvalidDataException("the job is empty (null)");
            if (job.Schema != SchemaVersion) throw new
                InvalidDataException($"job schema {job.Schema} is not {SchemaVersion}; submit it with this version of rtmtl");
            if (string.IsNullOrWhiteSpace(job.Source)) throw new InvalidDataException("the job has no source");
            return job;
        }
        catch (JsonException e) { throw new InvalidDataException($"the job is not valid JSON: {e.Message}", e); }
    }
}
