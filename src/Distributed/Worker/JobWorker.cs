using NATS.Client.JetStream;
using NATS.Client.ObjectStore;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Distributed.Jobs;

namespace RealtimeMtl.Distributed.Worker;

/// <summary>
/// A long-running worker: <see cref="WorkerOptions.Concurrency"/> slots each pull one job at a time from the shared
/// consumer, run it, and answer JetStream: in-progress acknowledgements while it runs (so a long video is not handed to
/// another worker), an acknowledgement once the outputs are committed, a delayed negative acknowledgement on a
/// transient failure, a termination with the reason on bad input. A worker that dies simply stops acknowledging: after
/// the ack wait JetStream redelivers its job to another worker.
/// </summary>
public sealed class JobWorker
{
    private readonly WorkQueue _queue;
    private readonly WorkerOptions _options;
    private readonly IJobRunner _runner;
    private readonly IEventLog _log;
    private readonly ResultFolders _results;
    private readonly CancellationTokenSource _pulling = new();
    private readonly Lock _gate = new();
    private readonly List<ActiveJob> _active = [];
    private int _jobsTaken, _outage, _completed, _failed;

    public JobWorker(WorkQueue queue, WorkerOptions options, IJobRunner runner, IEventLog log)
    {
        _queue = queue;
        _options = options;
        _runner = runner;
        _log = log;
        _results = new ResultFolders(options.OutRoot);
    }

    public int Completed => Volatile.Read(ref _completed);
    public int FailedJobs => Volatile.Read(ref _failed);

    /// <summary>Runs until <see cref="RequestStop"/> (or <see cref="WorkerOptions.MaxJobs"/>); returns when every slot has answered its
    /// job.</summary>
    public async Task RunAsync()
    {
        Directory.CreateDirectory(_options.OutRoot);
        var slots = Enumerable.Range(0, _options.Concurrency).Select(i => Task.Run(() => SlotAsync(i))).ToArray();
        await Task.WhenAll(slots);
    }

    /// <summary>
    /// Stop pulling. A running file job that would finish within <see cref="WorkerOptions.FinishWithin"/> is finished;
    /// any other is stopped after its current frame and goes back to the queue. Says which, per job.
    /// </summary>
    public void RequestStop()
    {
        _pulling.Cancel();
        lock (_gate)
        {
            foreach (var a in _active)
            {
                var p = a.LastProgress;
                var left = p?.FramesTotal is { } t && p.Fps > 0 ? TimeSpan.FromSeconds((t - p.FramesDone) / p.Fps) : (TimeSpan?)null;
                if (a.Job.Kind == JobKind.File && left is { } l && l <= _options.FinishWithin)
                    _log.Info($"worker: finishing job {a.Job.Id} ({a.Job.Output}): about {l.TotalSeconds:0.0} s left");
                else
                {
                    _log.Info($"worker: returning job {a.Job.Id} ({a.Job.Output}) to the queue after its current " +
                        $"frame{(p is null ? "" : $" ({p.FramesDone}{(p.FramesTotal is { } tt ? $"/{tt}" : "")} frames done)")}");
                    a.Stop.Cancel();
                }
            }
        }
    }

    private async Task SlotAsync(int slot)
    {
        while (!_pulling.IsCancellationRequested)
        {
            if (_options.MaxJobs > 0 && Volatile.Read(ref _jobsTaken) >= _options.MaxJobs) break;
            INatsJSMsg<byte[]>? msg;
            try
            {
                var consumer = await _queue.ConsumerAsync(_pulling.Token);
                msg = await consumer.NextAsync<byte[]>(opts: new NatsJSNextOpts { Expires = TimeSpan.FromSeconds(5) },
                    cancellationToken: _pulling.Token);
                if (Interlocked.Exchange(ref _outage, 0) == 1) _log.Info("worker: the NATS server is back; pulling jobs again");
            }
            catch (OperationCanceledException) when (_pulling.IsCancellationRequested) { break; }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (Interlocked.Exchange(ref _outage, 1) == 0) _log.Info($"worker: lost the NATS server ({e.GetBaseException().Message}); " +
                    $"reconnecting");
                try { await Task.Delay(500, _pulling.Token); } catch (OperationCanceledException) { break; }
                continue;
            }
            if (msg is null) continue;
            if (_options.MaxJobs > 0 && Interlocked.Increment(ref _jobsTaken) > _options.MaxJobs)
            {
                await Answer(() => msg.NakAsync(cancellationToken: CancellationToken.None), "give back");
                break;
            }
            await HandleAsync(msg);
        }
    }

    private async Task HandleAsync(INatsJSMsg<byte[]> msg)
    {
        var attempt = (int)(msg.Metadata?.NumDelivered ?? 1);
        JobSpec job;
        try { job = JobSpec.Parse(msg.Data ?? []); }
        catch (InvalidDataException e)
        {
            _log.Info($"worker: a message on {_queue.Subject} is not a job ({e.Message}); terminated");
            await Terminate(msg, e.Message);
            return;
        }
        var status = (await TryGetStatus(job.Id)) ?? JobStatus.QueuedFor(job);
        status = status with { Attempts = attempt, Worker = _options.Name, Run = job.Run };

        string source, final;
        string? model = null;
        try
        {
            final = _results.Final(job);
            // A redelivery of a job whose outputs were committed (its ack was lost, e.g. the server restarted): done.
            if (_results.IsCommitted(job))
            {
                _log.Info($"worker: job {job.Id} ({job.Output}) is already committed; acknowledging");
                _results.RemoveStale(job, attempt);
                await Finish(msg, status with
                {
                    State = JobState.Done,
                    Results = status.Results ?? final,
                    FinishedAt = status.FinishedAt
                    ?? DateTimeOffset.UtcNow,
                    Reason = null
                });
                return;
            }
            source = job.Kind == JobKind.Camera ? job.Source : SafePaths.Input(_options.InputRoot, job.Source);
            if (job.Model is not null) model = SafePaths.Input(_options.InputRoot, job.Model, "model");
        }
        catch (JobRefusedException e)
        {
            await Fail(msg, status, e.Message);
            return;
        }

        var started = DateTimeOffset.UtcNow;
        status = status with { State = JobState.Running, StartedAt = started, FramesDone = 0, FinishedAt = null, Reason = null, FirstFrameAt = null };
        await TryPut(status);
        _log.Info($"worker: job {job.Id}: {job.Source} -> {job.Output} (attempt {attempt})");
        var partial = _results.NewPartial(job, _options.Name, attempt);
        var active = new ActiveJob(job);
        lock (_gate) _active.Add(active);
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(msg, active, () => status, heartbeatStop.Token);
        JobOutcome outcome;
        try
        {
            outcome = await _runner.RunAsync(new JobRun(job, source, model, partial, _options.Name, p =>
            {
                active.LastProgress = p;
                if (p.FramesDone > 0) active.FirstFrameAt ??= DateTimeOffset.UtcNow;
            }), active.Stop.Token);
        }
        catch (Exception e)
        {
            outcome = new JobOutcome(OutcomeKind.Failed, active.LastProgress?.FramesDone ?? 0, $"the engine failed: {e.GetBaseException().Message}");
        }
        finally
        {
            lock (_gate) _active.Remove(active);
            heartbeatStop.Cancel();
            try { await heartbeat; } catch (OperationCanceledException) { }
        }
        var p = active.LastProgress;
        status = status with
        {
            FramesDone = outcome.Frames,
            FramesTotal = p?.FramesTotal ?? status.FramesTotal,
            Fps = p?.Fps is { } f && double.IsFinite(f) ? f : null,
            FirstFrameAt = active.FirstFrameAt,
            EndedAt = DateTimeOffset.UtcNow,
        };
        switch (outcome.Kind)
        {
            case OutcomeKind.Completed:
                try
                {
                    var committed = _results.Commit(job, partial, _options.Name, attempt);
                    var where = final;
                    if (_options.ResultsToObjectStore) where = await UploadAsync(job, final);
                    _log.Info(committed
                        ? $"worker: job {job.Id} done: {outcome.Frames} frames -> {where}"
                        : $"worker: job {job.Id} was committed by another worker meanwhile; ours discarded");
                    Interlocked.Increment(ref _completed);
                    await Finish(msg, status with { State = JobState.Done, Results = where, FinishedAt = DateTimeOffset.UtcNow });
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or NatsObjException or NATS.Client.Core.NatsException)
                {
                    await Retry(msg, status, $"its outputs could not be committed: {e.Message}", attempt, partial);
                }
                break;
            case OutcomeKind.BadInput:
                DeleteQuietly(partial);
                await Fail(msg, status, outcome.Reason ?? "bad input");
                break;
            case OutcomeKind.Stopped or OutcomeKind.Failed when CommittedMeanwhile(job):
                // A redelivery ran beside a live attempt (a server outage hid that attempt's acks) and the other
                // attempt committed the job: it is done, and nothing of ours may overwrite that.
                DeleteQuietly(partial);
                _log.Info($"worker: job {job.Id} was committed by another worker meanwhile; ours ended " +
                    $"({outcome.Kind.ToString().ToLowerInvariant()})");
                await Finish(msg, ((await TryGetStatus(job.Id)) ?? status) with { State = JobState.Done, Results = final, Reason = null });
                break;
            case OutcomeKind.Stopped:
                DeleteQuietly(partial);
                var reason = $"returned to the queue: worker {_options.Name} stopped at " +
                    $"{outcome.Frames}{(status.FramesTotal is { } t ? $"/{t}" : "")} frames";
                await TryPut(status with { State = JobState.Queued, Reason = reason, Worker = null });
                await Answer(() => msg.NakAsync(cancellationToken: CancellationToken.None), "return");
                break;
            default:
                await Retry(msg, status, outcome.Reason ?? "the run failed", attempt, partial);
                break;
        }
    }

    private bool CommittedMeanwhile(JobSpec job)
    {
        try { return _results.IsCommitted(job); }
        catch (JobRefusedException) { return false; }
    }

    /// <summary>In-progress acknowledgements (a third of the ack wait) and the job's row (every second) while it runs.</summary>
    private async Task HeartbeatAsync(INatsJSMsg<byte[]> msg, ActiveJob active, Func<JobStatus> status, CancellationToken ct)
    {
        var ackEvery = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(300).Ticks, _options.Queue.AckWait.Ticks / 3));
        var lastAck = DateTime.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, ackEvery.TotalMilliseconds)), ct); }
            catch (OperationCanceledException) { return; }
            if (DateTime.UtcNow - lastAck >= ackEvery)
            {
                lastAck = DateTime.UtcNow;
                try { await msg.AckProgressAsync(cancellationToken: ct); }
                catch (Exception e) when (e is not OperationCanceledException) { } // the server is away; it redelivers if we stay silent too long
            }
            if (active.LastProgress is { } p)
                await TryPut(status() with
                {
                    FramesDone = p.FramesDone,
                    FramesTotal = p.FramesTotal,
                    Fps = double.IsFinite(p.Fps) ? p.Fps : null,
                    FirstFrameAt = active.FirstFrameAt,
                    UpdatedAt = DateTimeOffset.UtcNow
                });
        }
    }

    private async Task<string> UploadAsync(JobSpec job, string folder)
    {
        var store = await _queue.ResultsStoreAsync();
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = job.Output + "/" + Path.GetRelativePath(folder, file).Replace('\\', '/');
            await using var stream = File.OpenRead(file);
            await store.PutAsync(name, stream);
        }
        Directory.Delete(folder, recursive: true);
        return $"nats-object-store://{_queue.ResultsBucketName}/{job.Output}/";
    }

    private async Task Fail(INatsJSMsg<byte[]> msg, JobStatus status, string reason)
    {
        Interlocked.Increment(ref _failed);
        _log.Info($"worker: job {status.Id} failed: {reason} (not retried)");
        await PutFinal(status with { State = JobState.Failed, Reason = reason, FinishedAt = DateTimeOffset.UtcNow });
        await Terminate(msg, reason);
    }

    private async Task Terminate(INatsJSMsg<byte[]> msg, string reason)
    {
        await Answer(() => msg.AckTerminateAsync(new AckOpts { TerminateReason = reason }), "terminate");
        // A terminated message stays in a work-queue stream (nats-server 2.9); the table keeps the reason, the queue lets go.
        if (msg.Metadata?.Sequence.Stream is { } seq)
        {
            try
            {
                await _queue.JetStream.DeleteMessageAsync(_queue.StreamName, new NATS.Client.JetStream.Models.StreamMsgDeleteRequest { Seq = seq });
            }
            catch (Exception e) when (e is not OperationCanceledException) { }
        }
    }

    private async Task Retry(INatsJSMsg<byte[]> msg, JobStatus status, string reason, int attempt, string partial)
    {
        DeleteQuietly(partial);
        if (attempt >= _options.Queue.MaxDeliver)
        {
            await Fail(msg, status, $"gave up after {attempt} attempts: {reason}");
            return;
        }
        _log.Info($"worker: job {status.Id} failed ({reason}); redelivered in {_options.RetryDelay.TotalSeconds:0.#} s (attempt {attempt} of " +
            $"{_options.Queue.MaxDeliver})");
        await TryPut(status with { State = JobState.Retrying, Reason = reason, Worker = null });
        await Answer(() => msg.NakAsync(new AckOpts { NakDelay = _options.RetryDelay }, CancellationToken.None), "retry");
    }

    private async Task Finish(INatsJSMsg<byte[]> msg, JobStatus done)
    {
        await PutFinal(done);
        // Double ack: the server confirms, so a lost ack is noticed (and the redelivery finds the committed folder).
        await Answer(() => msg.AckAsync(new AckOpts { DoubleAck = true }, CancellationToken.None), "acknowledge");
    }

    /// <summary>A final state must reach the table: retried through a server outage (up to a minute).</summary>
    private async Task PutFinal(JobStatus s)
    {
        for (var i = 0; i < 120; i++)
        {
            try { await _queue.Board.PutAsync(s with { UpdatedAt = DateTimeOffset.UtcNow }); return; }
            catch (Exception e) when (e is not OperationCanceledException) { await Task.Delay(500); }
        }
        _log.Info($"worker: could not record job {s.Id}'s final state ({s.State}) in the job table");
    }

    private async Task TryPut(JobStatus s)
    {
        try { await _queue.Board.PutAsync(s); }
        catch (Exception e) when (e is not OperationCanceledException) { }
    }

    private async Task<JobStatus?> TryGetStatus(string id)
    {
        try { return await _queue.Board.GetAsync(id); }
        catch (Exception e) when (e is not OperationCanceledException) { return null; }
    }

    private async Task Answer(Func<ValueTask> answer, string what)
    {
        for (var i = 0; i < 3; i++)
        {
            try { await answer(); return; }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (i == 2) _log.Info($"worker: could not {what} a job on the server ({e.GetBaseException().Message}); JetStream redelivers it " +
                    $"after the ack wait");
                else await Task.Delay(1000);
            }
        }
    }

    private static void DeleteQuietly(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private sealed class ActiveJob(JobSpec job)
    {
        public JobSpec Job { get; } = job;
        public CancellationTokenSource Stop { get; } = new();
        public volatile JobProgress? LastProgress;
        public DateTimeOffset? FirstFrameAt;
    }
}
