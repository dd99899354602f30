using System.Diagnostics;
using System.Threading.Channels;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// Draws each packet (when a sink that gets it reads the picture: <see cref="SinkFanOut.PictureWanted"/>; otherwise
/// the frame goes on undrawn and is counted), records render and end-to-end latency and hands the packet to the sink fan-out. A frame that
/// fails to render is not handed on; failures are counted and reported once (like a sink fault), and
/// <see cref="Failure"/> makes the run end with exit 3.
/// </summary>
public sealed class RenderStage(IFrameRenderer renderer, PipelineStats stats, IEventLog log)
{
    private long _failures;
    private string? _first;
    private bool _firstOut;

    /// <summary>Called once, after the first frame was handed to the sinks.</summary>
    public Action? FirstFrameOut { get; init; }

    /// <summary>Frames that failed to render.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>"the render stage failed on N frames (first at frame S: ...)", or null.</summary>
    public string? Failure => Failures == 0 ? null : $"the render stage failed on {Failures} frame{(Failures == 1 ? "" : "s")} (first at {_first})";

    public async Task RunAsync(ChannelReader<FramePacket> reader, SinkFanOut sinks)
    {
        try
        {
            await foreach (var packet in reader.ReadAllAsync().ConfigureAwait(false))
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    if (sinks.PictureWanted) { renderer.Render(packet, packet.RenderTarget, stats); packet.Rendered = packet.RenderTarget; }
                    else { packet.Rendered = null; stats.PictureSkipped(); }
                }
                catch (Exception e)
                {
                    if (Interlocked.Increment(ref _failures) == 1)
                    {
                        _first = $"frame {packet.Sequence}: {e.Message.Split('\n')[0].Trim()}";
                        log.Warning($"render failed on frame {packet.Sequence}: {e.Message}; such frames are left out of the outputs, counted, and " +
                            $"the run will exit 3");
                    }
                    packet.Release();
                    continue;
                }
                var t1 = Stopwatch.GetTimestamp();
                packet.RenderEndTicks = t1;
                stats.Render.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                stats.EndToEnd.Add(Stopwatch.GetElapsedTime(packet.CaptureTicks, t1).TotalMilliseconds);
                stats.MarkOutput(t1);
                if (stats.FramesOut % PipelineStats.ResourceEvery == 1) stats.SampleResources(stats.FramesOut);
                await sinks.PublishAsync(packet).ConfigureAwait(false);
                packet.Release();
                if (!_firstOut) { _firstOut = true; FirstFrameOut?.Invoke(); }
            }
        }
        finally
        {
            sinks.Complete();
        }
    }
}
