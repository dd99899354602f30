using RealtimeMtl.Common.Logging;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Quality;

namespace RealtimeMtl.Cli.Tests;

public static class TestPipelines
{
    /// <summary>A pipeline as the engine assembles one: stats with live quality injected, sinks attached before the run.</summary>
    public static EnginePipeline Create(IFrameSource source, IMtlModel model, IFrameRenderer renderer, IFrameSink[] sinks, PipelineOptions options,
        IEventLog events)
    {
        var pipeline = new EnginePipeline(source, model, new ModelPostProcessor(), renderer, PipelineStats.For(source, model,
            new LiveQuality(model.Info.Labels.Count)), options, events);
        foreach (var sink in sinks) pipeline.Attach(sink);
        return pipeline;
    }
}
