using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Sinks;

/// <summary>
/// Where annotated frames go. Each sink runs on its own task behind its own channel. Lossless sinks (recorder, raw
/// dump) get every frame in order and may slow the pipeline; lossy sinks (window, web view) get the newest frame
/// and never stall inference.
/// </summary>
public interface IFrameSink : IAsyncDisposable
{
    string Name { get; }
    bool Lossless { get; }

    /// <summary>
    /// Whether a lossy sink wants frames now (a viewer or subscriber is connected). When false the pipeline does not
    /// hand it frames, so nothing is encoded for nobody and no frame counts as skipped by viewers.
    /// </summary>
    bool Wanted => true;

    /// <summary>
    /// Whether the sink reads the drawn picture (<see cref="FramePacket.Rendered"/>). When no sink that gets a frame
    /// does (raw outputs, feeds, metrics, a robot's bus), the frame is not drawn: rendering is skipped, not wasted.
    /// </summary>
    bool UsesPicture => true;
    ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken);

    /// <summary>End of stream: flush and finalise (a recording must be playable after this).</summary>
    ValueTask CompleteAsync();
}
