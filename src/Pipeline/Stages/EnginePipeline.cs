using RealtimeMtl.Common.Logging;
using System.Threading.Channels;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// capture -> infer -> render -> sink fan-out, one task per stage (<see cref="CaptureStage"/>, <see cref="InferStage"/>,
/// <see cref="RenderStage"/>, <see cref="SinkFanOut"/>), bounded channels between them.
///   capture channel: live sources drop the oldest frame (counted); files wait (nothing lost).
///   render channel:  waits (inference output is never thrown away).
///   sink channels:   one per sink; lossless sinks wait, viewers drop the oldest.
/// Sinks are attached with <see cref="Attach"/> before <see cref="RunAsync"/>; the stats object is the caller's.
/// Stopping (token, end of input, MaxFrames) completes the capture channel; completion flows downstream, every
/// channel drains and every sink is finalised.
/// </summary>
public sealed class EnginePipeline
{
    private readonly IFrameSource _source;
    private readonly PipelineOptions _options;
    private readonly IEventLog _log;
    private readonly List<IFrameSink> _sinks = [];
    private readonly InferStage _infer;
    private readonly RenderStage _render;
    private bool _started;

    public EnginePipeline(IFrameSource source, IMtlModel model, IPostProcessor post, IFrameRenderer renderer, PipelineStats stats, PipelineOptions? options = null, IEventLog? log = null)
    {
        _source = source;
        _options = options ?? new PipelineOptions();
        _log = log ?? TextEventLog.StandardError;
        Stats = stats;
        _infer = new InferStage(model, post, stats, _options.MeasureQuality ? stats.Quality : null);
        _render = new RenderStage(renderer, stats, _log);
    }

    public PipelineStats Stats { get; }
    public bool IsLive => _options.ForceLive ?? _source.IsLive;
    public IReadOnlyList<IFrameSink> Sinks => _sinks;

    /// <summary>Adds a sink; only before the run starts.</summary>
    public EnginePipeline Attach(IFrameSink sink)
    {
        if (_started) throw new InvalidOperationException($"sink {sink.Name}: attach sinks before RunAsync");
        _sinks.Add(sink);
        return this;
    }

    /// <summary>Runs until the source ends, <see cref="PipelineOptions.MaxFrames"/>, or <paramref name="stop"/> (graceful: drains and finalises).</summary>
    public async Task<RunSummary> RunAsync(CancellationToken stop = default)
    {
        if (_started) throw new InvalidOperationException("a pipeline runs once");
        _started = true;
        var live = IsLive;
        var frames = live
            ? Channel.CreateBounded<Frame>(new BoundedChannelOptions(_options.LiveCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
                dropped => { dropped.Dispose(); Stats.SourceDrop(); })
            : Channel.CreateBounded<Frame>(new BoundedChannelOptions(_options.FileCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        var rendered = Channel.CreateBounded<FramePacket>(new BoundedChannelOptions(2) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        var fanOut = new SinkFanOut(_sinks, _options.FileCapacity, Stats, _log);
        var capture = new CaptureStage(_source, Stats, live, _options.MaxFrames, _log);

        // Downstream stages never see the stop token: they drain what is in flight, so nothing is lost on Ctrl+C.
        // A stage fault cancels the source (a file source would otherwise wait forever on a full channel).
        using var fault = new StageFault();
        using var captureStop = CancellationTokenSource.CreateLinkedTokenSource(stop, fault.Token);
        var overReleasedBefore = FramePacket.OverReleased;
        var changedBefore = FramePacket.ChangedWhileShared;
        var tasks = new List<Task>
        {
            Task.Run(() => capture.RunAsync(frames.Writer, captureStop.Token, fault)),
            Task.Run(() => _infer.RunAsync(frames.Reader, rendered.Writer, fault)),
            Task.Run(() => _render.RunAsync(rendered.Reader, fanOut)),
        };
        tasks.AddRange(fanOut.Start());
        await Task.WhenAll(tasks).ConfigureAwait(false);
        // Frames the source queued after a fault never reached inference: release them.
        while (frames.Reader.TryRead(out var left)) left.Dispose();
        _infer.ClearPool();
        Stats.SampleResources(Stats.FramesOut);
        if (FramePacket.OverReleased - overReleasedBefore is > 0 and var over)
            _log.Warning($"{over} frame packet release(s) past zero during this run (a sink or stage released a packet it no longer held); please report it");
        if (FramePacket.ChangedWhileShared - changedBefore is > 0 and var changed)
            _log.Warning($"{changed} frame packet(s) changed while sinks shared them (a sink drew into a shared frame after its write returned); please report it");
        return RunSummary.From(Stats, capture.SourceError, stop.IsCancellationRequested) with { StageError = fault.Message ?? _render.Failure };
    }
}
