using System.Diagnostics;
using System.Threading.Channels;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>Draws each packet, records render and end-to-end latency and hands the packet to the sink fan-out.</summary>
public sealed class RenderStage(IFrameRenderer renderer, PipelineStats stats, ISourceEvents log)
{
    public async Task RunAsync(ChannelReader<FramePacket> reader, SinkFanOut sinks)
    {
        try
        {
            await foreach (var packet in reader.ReadAllAsync().ConfigureAwait(false))
            {
                var t0 = Stopwatch.GetTimestamp();
                try { renderer.Render(packet, packet.RenderTarget, stats); packet.Rendered = packet.RenderTarget; }
                catch (Exception e)
                {
                    log.Warning($"render failed on frame {packet.Sequence}: {e.Message}");
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
            }
        }
        finally
        {
            sinks.Complete();
        }
    }
}
