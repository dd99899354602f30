using System.Diagnostics;
using System.Threading.Channels;
using OpenCvSharp;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// source -> infer -> render -> sinks, one task per stage, bounded channels between them.
///   capture channel: live sources drop the oldest frame (counted); files wait (nothing lost).
///   render channel:  waits (inference output is never thrown away).
///   sink channels:   one per sink; lossless sinks wait, viewers drop the oldest.
/// Stopping (token, end of input, MaxFrames) completes the capture channel; completion flows downstream, every
/// channel drains and every sink is finalised.
/// </summary>
public sealed class EnginePipeline
{
    private readonly IFrameSource _source;
    private readonly OnnxMtlModel _model;
    private readonly IFrameRenderer _renderer;
    private readonly IReadOnlyList<IFrameSink> _sinks;
    private readonly PipelineOptions _options;
    private readonly ISourceEvents _log;
    private string? _sourceError;
    private string? _stageError;
    /// <summary>Cancelled when any stage faults: the source stops, every channel drains, every sink is finalised.</summary>
    private readonly CancellationTokenSource _fault = new();
    private readonly TemporalSmoother? _smoother;

    public EnginePipeline(IFrameSource source, OnnxMtlModel model, IFrameRenderer renderer, IReadOnlyList<IFrameSink> sinks, PipelineOptions? options = null, ISourceEvents? log = null)
    {
        _source = source;
        _model = model;
        _renderer = renderer;
        _sinks = sinks;
        _options = options ?? new PipelineOptions();
        _log = log ?? ConsoleSourceEvents.Instance;
        _smoother = _options.Smooth ? new TemporalSmoother() : null;
        Stats = new PipelineStats(model.Info.Labels.Count)
        {
            Device = model.Device.ToString().ToLowerInvariant(), ModelName = model.Info.Name, SourceName = source.Description,
            SourceInternalDrops = () => source.DroppedInternally,
        };
    }

    public PipelineStats Stats { get; }
    public bool IsLive => _options.ForceLive ?? _source.IsLive;

    /// <summary>Runs until the source ends, <see cref="PipelineOptions.MaxFrames"/>, or <paramref name="stop"/> (graceful: drains and finalises).</summary>
    public async Task<RunSummary> RunAsync(CancellationToken stop = default)
    {
        var frames = IsLive
            ? Channel.CreateBounded<Frame>(new BoundedChannelOptions(_options.LiveCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
                dropped => { dropped.Dispose(); Stats.SourceDrop(); })
            : Channel.CreateBounded<Frame>(new BoundedChannelOptions(_options.FileCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        var rendered = Channel.CreateBounded<FramePacket>(new BoundedChannelOptions(2) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        var sinkChannels = _sinks.Select(s => s.Lossless
            ? Channel.CreateBounded<FramePacket>(new BoundedChannelOptions(_options.FileCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true })
            : Channel.CreateBounded<FramePacket>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
                dropped => { dropped.Release(); Stats.ViewerDrop(); })).ToArray();

        // Downstream stages never see the stop token: they drain what is in flight, so nothing is lost on Ctrl+C.
        // A stage fault cancels the source (a file source would otherwise wait forever on a full channel).
        using var captureStop = CancellationTokenSource.CreateLinkedTokenSource(stop, _fault.Token);
        var capture = Task.Run(() => CaptureLoop(frames.Writer, captureStop.Token));
        var infer = Task.Run(() => InferLoop(frames.Reader, rendered.Writer));
        var render = Task.Run(() => RenderLoop(rendered.Reader, sinkChannels.Select(c => c.Writer).ToArray()));
        var sinkTasks = _sinks.Select((s, i) => Task.Run(() => SinkLoop(s, sinkChannels[i].Reader))).ToArray();
        await Task.WhenAll(new[] { capture, infer, render }.Concat(sinkTasks)).ConfigureAwait(false);
        // Frames the source queued after a fault never reached inference: release them.
        while (frames.Reader.TryRead(out var left)) left.Dispose();
        Stats.SampleResources(Stats.FramesOut);
        return RunSummary.From(Stats, _sourceError, stop.IsCancellationRequested) with { StageError = _stageError };
    }

    private void Fault(string stage, long sequence, Exception e)
    {
        _stageError ??= $"the {stage} stage failed at frame {sequence}: {e.Message.Split('\n')[0].Trim()}";
        _fault.Cancel();
    }

    private async Task CaptureLoop(ChannelWriter<Frame> writer, CancellationToken stop)
    {
        var live = IsLive;
        try
        {
            var last = Stopwatch.GetTimestamp();
            await foreach (var frame in _source.ReadAllAsync(stop).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                Stats.Capture.Add(Stopwatch.GetElapsedTime(last, now).TotalMilliseconds);
                last = now;
                Stats.FrameIn();
                if (live) writer.TryWrite(frame);
                else
                {
                    // Files wait for room (nothing lost); only a stage fault ends the wait, not Ctrl+C.
                    try { await writer.WriteAsync(frame, _fault.Token).ConfigureAwait(false); }
                    catch (Exception e) when (e is ChannelClosedException or OperationCanceledException) { frame.Dispose(); break; }
                }
                if (_options.MaxFrames is { } max && Stats.FramesIn >= max) break;
                if (stop.IsCancellationRequested) break;
            }
        }
        catch (OperationCanceledException) { }
        catch (SourceException e)
        {
            _sourceError = e.Message;
            _log.Warning(e.Message);
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private async Task InferLoop(ChannelReader<Frame> reader, ChannelWriter<FramePacket> writer)
    {
        try
        {
            await foreach (var frame in reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (_fault.IsCancellationRequested) { frame.Dispose(); continue; }
                var packet = new FramePacket(frame) { InferStartTicks = Stopwatch.GetTimestamp() };
                try { Infer(packet); }
                catch (Exception e)
                {
                    Fault("infer", packet.Sequence, e);
                    packet.Release();
                    continue;
                }
                await writer.WriteAsync(packet).ConfigureAwait(false);
            }
        }
        catch (Exception e) { Fault("infer", -1, e); }
        finally { writer.TryComplete(); }
    }

    /// <summary>Resize into the model's input, run it, upsample the outputs to frame size, score against ground truth.</summary>
    private void Infer(FramePacket p)
    {
        var t0 = Stopwatch.GetTimestamp();
        _model.SetInput(p.Frame.Image);
        var t1 = Stopwatch.GetTimestamp();
        _model.Run();
        _smoother?.Apply(_model.Labels, _model.Depth, _model.Confidence);
        var t2 = Stopwatch.GetTimestamp();
        var size = new Size(p.Frame.Width, p.Frame.Height);
        LabelUpsampler.Upsample(_model.Labels, _model.Confidence, size, p.Labels);
        Cv2.Resize(_model.Depth, p.Depth, size, 0, 0, InterpolationFlags.Linear);
        if (_model.Confidence is { } conf)
        {
            p.Confidence = new Mat();
            Cv2.Resize(conf, p.Confidence, size, 0, 0, InterpolationFlags.Linear);
        }
        if (_options.MeasureQuality && (p.Frame.Labels is not null || p.Frame.Depth is not null)) Score(p);
        var t3 = Stopwatch.GetTimestamp();
        p.PreMs = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
        p.ModelMs = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
        p.PostMs = Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds;
        p.InferEndTicks = t3;
        Stats.Pre.Add(p.PreMs);
        Stats.Model.Add(p.ModelMs);
        Stats.Post.Add(p.PostMs);
        Stats.Infer.Add(Stopwatch.GetElapsedTime(t0, t3).TotalMilliseconds);
    }

    private unsafe void Score(FramePacket p)
    {
        var n = p.Frame.Width * p.Frame.Height;
        ReadOnlySpan<byte> truthLabels = default, predLabels = default;
        ReadOnlySpan<float> truthDepth = default, predDepth = default;
        if (p.Frame.Labels is { } gl && gl.Width == p.Frame.Width && gl.Height == p.Frame.Height && gl.IsContinuous())
        {
            truthLabels = new ReadOnlySpan<byte>((void*)gl.Data, n);
            predLabels = new ReadOnlySpan<byte>((void*)p.Labels.Data, n);
        }
        if (p.Frame.Depth is { } gd && gd.Width == p.Frame.Width && gd.Height == p.Frame.Height && gd.IsContinuous())
        {
            truthDepth = new ReadOnlySpan<float>((void*)gd.Data, n);
            predDepth = new ReadOnlySpan<float>((void*)p.Depth.Data, n);
        }
        Stats.AddQuality(truthLabels, predLabels, truthDepth, predDepth);
    }

    private async Task RenderLoop(ChannelReader<FramePacket> reader, ChannelWriter<FramePacket>[] sinks)
    {
        try
        {
            await foreach (var packet in reader.ReadAllAsync().ConfigureAwait(false))
            {
                var t0 = Stopwatch.GetTimestamp();
                try { packet.Rendered = _renderer.Render(packet, Stats); }
                catch (Exception e)
                {
                    _log.Warning($"render failed on frame {packet.Sequence}: {e.Message}");
                    packet.Release();
                    continue;
                }
                var t1 = Stopwatch.GetTimestamp();
                packet.RenderEndTicks = t1;
                Stats.Render.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                Stats.EndToEnd.Add(Stopwatch.GetElapsedTime(packet.CaptureTicks, t1).TotalMilliseconds);
                Stats.MarkOutput(t1);
                if (Stats.FramesOut % PipelineStats.ResourceEvery == 1) Stats.SampleResources(Stats.FramesOut);
                for (var i = 0; i < sinks.Length; i++)
                {
                    if (!_sinks[i].Lossless && !_sinks[i].Wanted) continue;
                    packet.AddRef();
                    if (_sinks[i].Lossless)
                    {
                        try { await sinks[i].WriteAsync(packet).ConfigureAwait(false); }
                        catch (ChannelClosedException) { packet.Release(); }
                    }
                    else if (!sinks[i].TryWrite(packet)) packet.Release();
                }
                packet.Release();
            }
        }
        finally
        {
            foreach (var s in sinks) s.TryComplete();
        }
    }

    private async Task SinkLoop(IFrameSink sink, ChannelReader<FramePacket> reader)
    {
        var recorder = Stats.SinkRecorder(sink.Name);
        var failed = false;
        await foreach (var packet in reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (!failed)
                {
                    var t = Stopwatch.GetTimestamp();
                    await sink.WriteAsync(packet, CancellationToken.None).ConfigureAwait(false);
                    recorder.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
            }
            catch (Exception e)
            {
                // One line per faulty sink; it stops taking frames, the others go on.
                failed = true;
                Stats.SinkError(sink.Name);
                _log.Warning($"sink {sink.Name} failed at frame {packet.Sequence}: {e.Message}; the run goes on without it.");
            }
            finally { packet.Release(); }
        }
        try { await sink.CompleteAsync().ConfigureAwait(false); }
        catch (Exception e)
        {
            Stats.SinkError(sink.Name);
            _log.Warning($"sink {sink.Name} could not finish cleanly: {e.Message}");
        }
    }
}
