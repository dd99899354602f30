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

    /// <summary>How long one listing of the table may take: the bucket's key listing can wait forever for an end marker.</summary>
    public static TimeSpan ListTimeout { get; } = TimeSpan.FromSeconds(15);

    /// <summary>Every job's row; a listing that does not end within <see cref="ListTimeout"/> is one <see cref="TimeoutException"/>.</summary>
    public async Task<List<JobStatus>> AllAsync(CancellationToken ct = default)
    {
        var rows = new List<JobStatus>();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(ListTimeout);
        try
        {
            await foreach (var key in store.GetKeysAsync(cancellationToken: limit.Token))
                if (await GetAsync(key, limit.Token) is { } s) rows.Add(s);
        }
        catch (NatsKVException) { } // an empty bucket
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"the job table did not answer within {ListTimeout.TotalSeconds:0} s; try again (is the NATS server busy?)");
        }
        return rows.OrderBy(r => r.SubmittedAt).ThenBy(r => r.Output, StringComparer.Ordinal).ToList();
    }
}
