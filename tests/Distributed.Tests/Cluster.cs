using NATS.Client.Core;
using RealtimeMtl.Distributed.Jobs;
using RealtimeMtl.Distributed.Nats;

namespace RealtimeMtl.Distributed.Tests;

/// <summary>One test's world: a real nats-server, a shared input folder, a shared results folder, and workers.</summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly List<Rtmtl> _processes = [];
    private NatsConnection? _connection;

    private readonly string? _ca;

    private Cluster(NatsServer server, string dir, string? ca = null)
    {
        _ca = ca;
        Server = server;
        Dir = dir;
        Inputs = Directory.CreateDirectory(Path.Combine(dir, "inputs")).FullName;
        Results = Directory.CreateDirectory(Path.Combine(dir, "results")).FullName;
    }

    public NatsServer Server { get; }
    public string Dir { get; }
    public string Inputs { get; }
    public string Results { get; }
    public string Auth => $"--nats {Server.Url} --token {NatsServer.Token}{(_ca is null ? "" : $" --tls-ca \"{_ca}\"")}";

    public static async Task<Cluster> StartAsync() =>
        new(await NatsServer.StartAsync(), Directory.CreateTempSubdirectory("rtmtl-cluster-").FullName);

    /// <summary>A cluster whose server requires TLS, with a certificate for 127.0.0.1 made here (its own CA file).</summary>
    public static async Task<Cluster> StartTlsAsync()
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-cluster-").FullName;
        var (cert, key) = TestCertificate.Write(dir);
        return new Cluster(await NatsServer.StartAsync((cert, key)), dir, cert);
    }

    /// <summary>Starts a worker and waits for its readiness line.</summary>
    public async Task<Rtmtl> WorkerAsync(string name, string extra = "")
    {
        var w = Rtmtl.Start($"worker {Auth} --input-root \"{Inputs}\" --out-root \"{Results}\" --name {name} --threads 1 {extra}", Dir);
        _processes.Add(w);
        await w.WaitForLineAsync(l => l.StartsWith($"worker {name}: pulling jobs"));
        return w;
    }

    public Task<Rtmtl.Result> RtmtlAsync(string args) => Rtmtl.RunAsync(args, Dir);

    public async Task<WorkQueue> QueueAsync(string name = "default")
    {
        _connection ??= await NatsEndpoint.Parse(Server.Url, NatsServer.Token, null, _ca).ConnectAsync("rtmtl-test");
        return await WorkQueue.OpenAsync(_connection, name, null);
    }

    public async Task<NatsConnection> ConnectionAsync()
    {
        await QueueAsync();
        return _connection!;
    }

    /// <summary>Polls the job table until <paramref name="done"/> holds (a condition, not a sleep).</summary>
    public async Task<List<JobStatus>> WaitForJobsAsync(Func<List<JobStatus>, bool> done, int timeoutMs = 180_000, string queue = "default")
    {
        var until = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        List<JobStatus> rows = [];
        while (DateTime.UtcNow < until)
        {
            try
            {
                var q = await QueueAsync(queue);
                rows = await q.Board.AllAsync();
                if (done(rows)) return rows;
            }
            catch (NatsException) { } // the server is being restarted
            catch (TimeoutException) { } // a listing that did not end: asked again
            await Task.Delay(200);
        }
        throw new TimeoutException("the jobs did not reach the expected state: " + string.Join("; ", rows.Select(r
            => $"{r.Output}={r.State} {r.Reason}"))
            + "\nworkers:\n" + string.Join("\n----\n", _processes.Select(p => p.Stderr)));
    }

    public string WorkerLogs => string.Join("\n----\n", _processes.Select(p => p.Stderr));

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes) await p.DisposeAsync();
        if (_connection is not null) await _connection.DisposeAsync();
        await Server.DisposeAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
