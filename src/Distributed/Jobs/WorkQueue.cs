using System.Text.RegularExpressions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Client.ObjectStore;
using NATS.Net;

namespace RealtimeMtl.Distributed.Jobs;

/// <summary>
/// One named queue on JetStream: a work-queue stream <c>RTMTL_{QUEUE}</c> on subject <c>rtmtl.jobs.{queue}</c> (a job
/// is removed when a worker acknowledges it), one durable pull consumer <c>workers</c> shared by every worker (each
/// message goes to one of them; an unacknowledged one is redelivered after the ack wait), the job table in the
/// key-value bucket <c>rtmtl-jobs-{queue}</c>, and results in the object store <c>rtmtl-results-{queue}</c>.
/// NATS does the distributing; nothing here schedules.
/// </summary>
public sealed partial class WorkQueue
{
    public const string ConsumerName = "workers";
    public const string MsgIdHeader = "Nats-Msg-Id";

    private readonly NatsConnection _connection;

    private WorkQueue(NatsConnection connection, string name)
    {
        _connection = connection;
        Name = name;
        JetStream = connection.CreateJetStreamContext();
    }

    public string Name { get; }
    public string StreamName => "RTMTL_" + Name.ToUpperInvariant().Replace('-', '_');
    public string Subject => "rtmtl.jobs." + Name;
    public string BucketName => "rtmtl-jobs-" + Name;
    public string ResultsBucketName => "rtmtl-results-" + Name;
    public INatsJSContext JetStream { get; }
    public JobBoard Board { get; private set; } = null!;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex QueueNamePattern();

    public static void ValidateName(string name)
    {
        if (!QueueNamePattern().IsMatch(name)) throw new ArgumentException($"--queue '{name}' must be 1-64 letters, digits, '-' or '_'");
    }

    /// <summary>
    /// Creates (or finds) the stream, the consumer and the job table. A worker passes its <paramref name="settings"/>
    /// (the consumer takes them; the latest worker to start wins, so give every worker the same); submit and jobs pass
    /// null and leave an existing consumer as it is.
    /// </summary>
    public static async Task<WorkQueue> OpenAsync(NatsConnection connection, string name, QueueSettings? settings, CancellationToken ct = default)
    {
        ValidateName(name);
        var q = new WorkQueue(connection, name);
        await q.JetStream.CreateOrUpdateStreamAsync(new StreamConfig(q.StreamName, [q.Subject])
        {
            Retention = StreamConfigRetention.Workqueue,
            Storage = StreamConfigStorage.File,
            // Publishing the same job id twice within this window stores it once (submit is idempotent on the bus too).
            DuplicateWindow = TimeSpan.FromMinutes(2),
        }, ct);
        var config = Consumer(q.Subject, settings ?? new QueueSettings());
        if (settings is not null) await q.JetStream.CreateOrUpdateConsumerAsync(q.StreamName, config, ct);
        else
        {
            try { await q.JetStream.GetConsumerAsync(q.StreamName, ConsumerName, ct); }
            catch (NatsJSApiException e) when (e.Error.Code == 404) { await q.JetStream.CreateOrUpdateConsumerAsync(q.StreamName, config, ct); }
        }
        var kv = connection.CreateKeyValueStoreContext();
        var store = await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(q.BucketName) { History = 1, Storage = NatsKVStorageType.File }, ct);
        q.Board = new JobBoard(store);
        return q;
    }

    private static ConsumerConfig Consumer(string subject, QueueSettings settings) => new(ConsumerName)
    {
        AckPolicy = ConsumerConfigAckPolicy.Explicit,
        AckWait = settings.AckWait,
        MaxDeliver = settings.MaxDeliver,
        MaxAckPending = 10_000,
        FilterSubject = subject,
    };

    public Task<INatsJSConsumer> ConsumerAsync(CancellationToken ct = default) => JetStream.GetConsumerAsync(StreamName, ConsumerName, ct).AsTask();

    /// <summary>Puts a job on the queue (the table first, so a fast worker's "running" is never overwritten by "queued").</summary>
    public async Task PublishAsync(JobSpec job, CancellationToken ct = default)
    {
        job = job with { SubmittedAt = DateTimeOffset.UtcNow };
        await Board.PutAsync(JobStatus.QueuedFor(job), ct);
        var headers = new NatsHeaders { [MsgIdHeader] = $"{job.Id}.{job.Run}" };
        var ack = await JetStream.PublishAsync(Subject, job.ToUtf8(), headers: headers, cancellationToken: ct);
        ack.EnsureSuccess();
    }

    /// <summary>Jobs waiting on the queue (published, not yet acknowledged).</summary>
    public async Task<long> DepthAsync(CancellationToken ct = default) => (long)(await JetStream.GetStreamAsync(StreamName,
        cancellationToken: ct)).Info.State.Messages;

    public async Task<INatsObjStore> ResultsStoreAsync(CancellationToken ct = default) =>
        await _connection.CreateObjectStoreContext().CreateObjectStoreAsync(new NatsObjConfig(ResultsBucketName)
        {
            Storage = NatsObjStorageType.File
        }, ct);
}
