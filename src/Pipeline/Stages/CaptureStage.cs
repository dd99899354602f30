using System.Diagnostics;
using System.Threading.Channels;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// Reads the source into the capture channel. Live sources write without waiting (the channel drops the oldest);
/// files wait for room, so nothing is lost. Ends at the end of the source, at MaxFrames, on stop or on a stage fault.
/// The "capture" time of a frame is how long the source took to deliver it once asked: reading and decoding, or waiting
/// for a live camera's next frame; the wait for room in the channel is not in it.
/// </summary>
public sealed class CaptureStage(IFrameSource source, PipelineStats stats, bool live, long? maxFrames, IEventLog log)
{
    /// <summary>The source's own error (a camera unplugged, a stream gone), reported once; the run still finalises.</summary>
    public string? SourceError { get; private set; }

    /// <summary>Reads until the end; <paramref name="ready"/> (the muxer's) is set after every frame and at the end.</summary>
    public async Task RunAsync(ChannelWriter<Frame> writer, CancellationToken stop, StageFault fault, ReadySignal? ready = null)
    {
        try
        {
            var last = Stopwatch.GetTimestamp();
            await foreach (var frame in source.ReadAllAsync(stop).ConfigureAwait(false))
            {
                stats.Capture.Add(Stopwatch.GetElapsedTime(last).TotalMilliseconds);
                stats.FrameIn();
                if (live) { writer.TryWrite(frame); ready?.Set(); }
                else
                {
                    // Files wait for room (nothing lost), not for Ctrl+C. After a fault the infer stage drains the
                    // channel, so the wait always ends. No token: the channel reuses its one writer operation.
                    try { await writer.WriteAsync(frame).ConfigureAwait(false); }
                    catch (ChannelClosedException) { frame.Dispose(); break; }
                    ready?.Set();
                    if (fault.IsFaulted) break;
                }
                if (maxFrames is { } max && stats.FramesIn >= max) break;
                if (stop.IsCancellationRequested) break;
                last = Stopwatch.GetTimestamp();
            }
        }
        catch (OperationCanceledException) { }
        catch (SourceException e)
        {
            SourceError = e.Message;
            log.Warning(e.Message);
        }
        finally
        {
            writer.TryComplete();
            ready?.Set();
        }
    }
}
