using RealtimeMtl.Cli.Composition;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Ros2.Dds;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// Runs an engine for a command: builds it (<see cref="EngineBuilder"/>), runs it under Ctrl+C/SIGTERM handling
/// (first: drain and finalise; second: exit now), prints the summary and says why it failed.
/// Exit codes: 0 done, 2 bad input or options, 3 a source, stage or sink failed mid-run (outputs finalised), 130 forced exit.
/// </summary>
public static class EngineRunner
{
    public static async Task<int> RunAsync(EngineSettings s, TextWriter output, TextWriter errors, CancellationToken external = default,
        EngineHooks? hooks = null) => (await RunForResultAsync(s, output, errors, external, hooks)).ExitCode;

    /// <summary>As <see cref="RunAsync"/>, with why a run failed (a worker reports it as the job's reason).</summary>
    public static async Task<EngineResult> RunForResultAsync(EngineSettings s, TextWriter output, TextWriter errors,
        CancellationToken external = default, EngineHooks? hooks = null)
    {
        hooks ??= new EngineHooks();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(external);
        // The first SIGINT or SIGTERM drains the pipeline and finalises the outputs; the second exits at once (130).
        using var signals = hooks.HandleSignals
            ? new RealtimeMtl.Common.Commands.TwoStageStop(errors,
                "stopping: draining the pipeline and finalising outputs (press Ctrl+C again to exit at once)", stop.Cancel)
            : null;
        try
        {
            await using var engine = await new EngineBuilder(s, new ConsoleEvents(errors, s.Quiet), errors).AddSinks(hooks.Sinks).StopWith(stop)
                .BuildAsync();
            var result = await engine.RunAsync(stop.Token, hooks);
            output.WriteLine(s.StatsJson == "-" ? result.Summary!.ToJson() : result.Summary!.ToText());
            return result;
        }
        catch (Exception e) when (e is SourceException or ModelContractException or ArgumentException
            or RealtimeMtl.Distributed.Nats.NatsUnavailableException or DdsUnavailableException)
        {
            errors.WriteLine($"error: {e.Message}");
            return EngineResult.BadInput(e.Message);
        }
    }
}
