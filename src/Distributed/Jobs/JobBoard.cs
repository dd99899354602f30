using NATS.Client.KeyValueStore;

namespace RealtimeMtl.Distributed.Jobs;

/// <summary>The job table: one key per job id in a JetStream key-value bucket, read by <c>rtmtl jobs</c>.</summary>
public sealed class JobBoard(INatsKVStore store)
{
    public async Task PutAsync(JobStatus status, CancellationToken ct = default) =>
        await store.PutAsync(status.Id, status.ToUtf8(), cancellationToken: ct);

    public async Task<JobStatus?> GetAsync(string id, CancellationToken ct = default)
    {
        var entry = await store.TryGetEntryAsync<byte[]>(id, cancellationToken: ct);
        return entry.Success && entry.Value.Value is { Length: > 0 } bytes ? JobStatus.Parse(bytes) : null;
    }

    public async Task<List<JobStatus>> AllAsync(CancellationToken ct = default)
    {
        var rows = new List<JobStatus>();
        try
        {
            await foreach (var key in store.GetKeysAsync(cancellationToken: ct))
                if (await GetAsync(key, ct) is { } s) rows.Add(s);
        }
        catch (NatsKVException) { } // an empty bucket
        return rows.OrderBy(r => r.SubmittedAt).ThenBy(r => r.Output, StringComparer.Ordinal).ToList();
    }
}
