using System.CommandLine;
using System.Runtime.InteropServices;
using RealtimeMtl.Distributed.Jobs;
using RealtimeMtl.Distributed.Nats;
using RealtimeMtl.Distributed.Worker;

namespace RealtimeMtl.Cli.Distributed;

internal static class WorkerCommand
{
    public static Command Build()
    {
        var nats = new NatsOptionSet();
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Jobs this worker runs at once (each has its own model session)",
            DefaultValueFactory = _ => 1
        };
        var outRoot = new Option<string?>("--out-root")
        {
            Description =
            "Shared folder for results: OUT_ROOT/{name}/annotated.mp4, stats.json (and raw/); written under temporary names, committed when complete"
        };
        var results = new Option<string>("--results")
        {
            Description =
            "folder (under --out-root) or object-store (JetStream object store rtmtl-results-{queue}; --out-root then only stages)",
            DefaultValueFactory = _ => "folder"
        };
        var inputRoot = new Option<string?>("--input-root")
        {
            Description =
            "Jobs' sources and models are paths under this folder; anything resolving outside it is refused (default: the current folder)"
        };
        var name = new Option<string?>("--name") { Description = "This worker's name in the job table (default: HOST-PID)" };
        var ackWait = new Option<double>("--ack-wait")
        {
            Description =
            "Seconds a worker may stay silent before its job is given to another (the take-over time of a dead worker; in-progress acks go every " +
                "third of it)", DefaultValueFactory = _ => 10
        };
        var maxDeliver = new Option<int>("--max-deliver")
        {
            Description =
            "Deliveries of a job that keeps failing transiently before it is marked failed", DefaultValueFactory = _ => 5
        };
        var retryDelay = new Option<double>("--retry-delay")
        {
            Description = "Seconds before a transiently failed job is redelivered",
            DefaultValueFactory = _ => 5
        };
        var finishWithin = new Option<double>("--finish-within")
        {
            Description =
            "On Ctrl+C/SIGTERM, a file job with fewer seconds than this left is finished; others go back to the queue", DefaultValueFactory = _
                => 10
        };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads per job (0 = one per core)", DefaultValueFactory = _ => 0 };
        var maxJobs = new Option<int>("--max-jobs") { Description = "Leave after this many jobs (0: until stopped)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("worker", """
            Pull jobs from a NATS JetStream work queue and run each through the engine, until Ctrl+C or SIGTERM.
            The worker is a client only: it listens on nothing. A job that runs sends in-progress acknowledgements; a worker
            that dies stops sending them and JetStream gives its job to another worker after --ack-wait.
            Examples:
              nats-server -js -sd /var/lib/nats --auth s3cret                        (once, on one machine)
              ./rtmtl worker --nats nats://10.0.0.5:4222 --token s3cret --input-root /mnt/shared/clips --out-root /mnt/shared/results
              ./rtmtl worker --nats nats://10.0.0.5:4222 --token s3cret --concurrency 2 --threads 4 --queue archive
              ./rtmtl worker --nats tls://nats.example.org:4222 --creds worker.creds --results object-store --out-root /tmp/stage
            Ctrl+C: stop pulling; a job close to its end is finished, any other stops after its current frame and goes back
            to the queue (the worker says which); a second Ctrl+C exits at once (its job is redelivered after --ack-wait).
            """);
        nats.AddTo(cmd);
        foreach (var o in new Option[] { concurrency, outRoot, results, inputRoot, name, ackWait, maxDeliver, retryDelay, finishWithin, threads,
            maxJobs }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            NatsEndpoint endpoint;
            string queueName;
            WorkerOptions options;
            try
            {
                (endpoint, queueName) = nats.Read(r);
                if (r.GetValue(concurrency) is < 1 or > 64) throw new ArgumentException("--concurrency must be between 1 and 64");
                if (!(r.GetValue(ackWait) is >= 1 and <= 3600)) throw new ArgumentException("--ack-wait must be between 1 and 3600 seconds");
                if (r.GetValue(maxDeliver) is < 1 or > 1000) throw new ArgumentException("--max-deliver must be between 1 and 1000");
                if (!(r.GetValue(retryDelay) is >= 0 and <= 3600)) throw new ArgumentException("--retry-delay must be between 0 and 3600 seconds");
                if (!(r.GetValue(finishWithin) is >= 0 and <= 3600)) throw new
                    ArgumentException("--finish-within must be between 0 and 3600 seconds");
                if (r.GetValue(threads) < 0) throw new ArgumentException("--threads must be 0 or more");
                if (r.GetValue(maxJobs) < 0) throw new ArgumentException("--max-jobs must be 0 or more");
                var toStore = r.GetValue(results) switch
                {
                    "folder" => false,
                    "object-store" => true,
                    var x => throw new ArgumentException($"--results '{x}' must be folder or object-store"),
                };
                var output = r.GetValue(outRoot) ?? (toStore ? Path.Combine(Path.GetTempPath(), $"rtmtl-stage-{Environment.ProcessId}") : null)
                    ?? throw new ArgumentException("give --out-root DIR (shared storage for results), or --results object-store");
                var input = r.GetValue(inputRoot) ?? Directory.GetCurrentDirectory();
                if (!Directory.Exists(input)) throw new ArgumentException($"--input-root '{input}' is not a folder");
                Directory.CreateDirectory(output);
                options = new WorkerOptions
                {
                    Name = r.GetValue(name) ?? $"{Environment.MachineName}-{Environment.ProcessId}",
                    Concurrency = r.GetValue(concurrency), InputRoot = Path.GetFullPath(input), OutRoot = Path.GetFullPath(output),
                    ResultsToObjectStore = toStore,
                    Queue = new QueueSettings { AckWait = TimeSpan.FromSeconds(r.GetValue(ackWait)), MaxDeliver = r.GetValue(maxDeliver) },
                    RetryDelay = TimeSpan.FromSeconds(r.GetValue(retryDelay)), FinishWithin = TimeSpan.FromSeconds(r.GetValue(finishWithin)),
                    MaxJobs = r.GetValue(maxJobs),
                };
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            var log = Console.Error;
            await using var connection = await ConnectOrNull(endpoint, $"rtmtl-worker-{options.Name}", log, ct);
            if (connection is null) return 2;
            WorkQueue queue;
            try { queue = await WorkQueue.OpenAsync(connection, queueName, options.Queue, ct); }
            catch (Exception e) when (e is NATS.Client.Core.NatsException or NATS.Client.JetStream.NatsJSException)
            {
                log.WriteLine($"error: the NATS server at {endpoint.Display} has no usable JetStream ({e.Message}); start it with -js (nats-server " +
                    $"-js -sd DIR)");
                return 2;
            }
            var events = RealtimeMtl.Common.Logging.TextEventLog.StandardError;
            var worker = new JobWorker(queue, options, new EngineJobRunner(endpoint, connection, r.GetValue(threads), events), events);
            using var stop = new RealtimeMtl.Common.Commands.TwoStageStop(log, $"worker {options.Name}: stopping (Ctrl+C again exits at once)",
                worker.RequestStop);
            log.WriteLine($"worker {options.Name}: pulling jobs from queue '{queueName}' ({queue.StreamName}) at {endpoint.Display}; ack wait " +
                $"{options.Queue.AckWait.TotalSeconds:0.#} s, concurrency {options.Concurrency}; inputs under {options.InputRoot}; results " +
                    $"{(options.ResultsToObjectStore ? $"to object store {queue.ResultsBucketName}" : $"under {options.OutRoot}")}");
            await worker.RunAsync();
            log.WriteLine($"worker {options.Name}: left cleanly ({worker.Completed} jobs done, {worker.FailedJobs} failed)");
            return 0;
        });
        return cmd;
    }

    /// <summary>Connects, or prints the one clear reason and returns null (exit 2).</summary>
    public static async Task<NATS.Client.Core.NatsConnection?> ConnectOrNull(NatsEndpoint endpoint, string client, TextWriter errors,
        CancellationToken ct)
    {
        try { return await endpoint.ConnectAsync(client, ct); }
        catch (NatsUnavailableException e)
        {
            errors.WriteLine($"error: {e.Message}");
            return null;
        }
    }
}
