using System.Globalization;
using RealtimeMtl.Cli.Commands;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Distributed.Bus;
using RealtimeMtl.Distributed.Jobs;
using RealtimeMtl.Distributed.Nats;
using RealtimeMtl.Distributed.Worker;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Render.Drawing;

namespace RealtimeMtl.Cli.Distributed;

/// <summary>
/// Runs a job exactly as <c>rtmtl run</c> would run its options (the same <see cref="EngineRunner"/>), writing into the
/// job's partial folder and publishing every frame's results to <c>rtmtl.frames.{camera}</c>. Exit codes map to the
/// queue's answers: 0 completed, 2 bad input (never retried; for a camera: down, retried), 3 or a crash failed (retried later).
/// </summary>
internal sealed class EngineJobRunner(NatsEndpoint endpoint, NATS.Client.Core.NatsConnection connection, int threads, IEventLog log) : IJobRunner
{
    public async Task<JobOutcome> RunAsync(JobRun run, CancellationToken stop)
    {
        var job = run.Job;
        EngineSettings settings;
        try { settings = Settings(run); }
        catch (ArgumentException e) { return new JobOutcome(OutcomeKind.BadInput, 0, e.Message); }
        var output = new StringWriter();
        var errors = new LineCapture(log, job.Id);
        long frames = 0;
        var result = await EngineRunner.RunForResultAsync(settings, output, errors, stop, new EngineHooks
        {
            HandleSignals = false,
            Progress = (done, total, fps) => { frames = done; run.Progress(new JobProgress(done, total, fps)); },
            FirstFrame = () => run.Progress(new JobProgress(1, null, double.NaN)),
        });
        if (stop.IsCancellationRequested) return new JobOutcome(OutcomeKind.Stopped, frames);
        var reason = result.Failure;
        var code = result.ExitCode;
        return code switch
        {
            0 => new JobOutcome(OutcomeKind.Completed, frames),
            // A camera that cannot be opened is usually down for now, not wrong: retried (up to --max-deliver).
            2 when job.Kind == JobKind.Camera => new JobOutcome(OutcomeKind.Failed, frames, reason ?? "the camera could not be opened (exit 2)"),
            2 => new JobOutcome(OutcomeKind.BadInput, frames, reason ?? "bad input (exit 2)"),
            _ => new JobOutcome(OutcomeKind.Failed, frames, reason ?? $"the run failed (exit {code})"),
        };
    }

    private EngineSettings Settings(JobRun run)
    {
        var o = run.Job.Options;
        var camera = run.Job.Kind == JobKind.Camera;
        // A camera's recording is a new segment per worker that holds it (a fragmented MP4 plays after any stop).
        var more = new List<string>
        {
            "--stats-json", Path.Combine(run.OutputFolder, "stats.json"), "--quiet", "--threads", threads.ToString(CultureInfo.InvariantCulture),
            "--model", run.Model ?? DefaultModel.Path(),
        };
        if (o.Record)
            more.AddRange(["--record", camera ? Path.Combine(run.OutputFolder, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{run.Worker}.mp4")
                : Path.Combine(run.OutputFolder, "annotated.mp4")]);
        if (o.SaveRaw) more.AddRange(["--save-raw", Path.Combine(run.OutputFolder, "raw")]);
        // The same checks as rtmtl run; the bus is the worker's own connection.
        return JobArguments.Read(run.Source, o, [.. more]) with
        {
            Queue = null,
            Publish = new PublisherOptions { Endpoint = endpoint, Connection = connection, Camera = run.Job.Output, Maps = o.PublishMaps },
        };
    }

    /// <summary>The run's messages go to the worker's log, prefixed with the job.</summary>
    private sealed class LineCapture(IEventLog log, string id) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\r') { _line.Clear(); return; }
            if (value != '\n') { _line.Append(value); return; }
            var text = _line.ToString();
            _line.Clear();
            if (text.Length == 0) return;
            log.Info($"  [{id}] {text}");
        }
    }
}
