using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>The engine with one camera, "cam0", as a fleet of one: the camera added, its sinks attached.</summary>
internal static class OneCamera
{
    public static EnginePipeline Engine(IFrameSource source, IMtlModel model, IPostProcessor post, IFrameRenderer renderer, PipelineStats stats,
        IEventLog? log = null, params IFrameSink[] sinks)
    {
        var engine = new EnginePipeline(model, null, log);
        var camera = engine.AddCamera("cam0", source, post, renderer, stats);
        foreach (var sink in sinks) camera.Attach(sink);
        return engine;
    }
}
