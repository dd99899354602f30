using RealtimeMtl.Cli.Commands;
using RealtimeMtl.Cli.Composition;
using RealtimeMtl.Common.Logging;

namespace RealtimeMtl.Cli.Tests;

public static class TestPipelines
{
    /// <summary>
    /// An engine as every command assembles one (<see cref="EngineBuilder"/>), on the test's model, source and renderer,
    /// with its sinks on the camera; the options replace those the settings would give.
    /// </summary>
    public static TestEngine Create(IFrameSource source, IMtlModel model, IFrameRenderer renderer, IFrameSink[] sinks, PipelineOptions options,
        IEventLog events) =>
        new(new EngineBuilder(new EngineSettings { Source = source.Description, ModelPath = model.Info.Name, Quiet = true }, events, TextWriter.Null)
            .UseModel(model).UseSource(source, renderer).AddSinks(_ => sinks).Tune(_ => options));

    /// <summary>Builds the engine and runs it once; the summary, as the pipeline gives it.</summary>
    public sealed class TestEngine(EngineBuilder builder)
    {
        public async Task<RunSummary> RunAsync()
        {
            await using var engine = await builder.BuildAsync();
            return (await engine.RunAsync()).Summary!;
        }
    }
}
