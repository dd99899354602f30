using RealtimeMtl.Distributed.Nats;

namespace RealtimeMtl.Distributed.Bus;

/// <summary>What <c>--publish</c> sends: to which server (unless a worker lends its connection), as which camera.</summary>
public sealed record PublisherOptions
{
    public NatsEndpoint? Endpoint { get; init; }
    /// <summary>A connection to share (a worker's, which reconnects through server restarts); else one is made from <see cref="Endpoint"/>.</summary>
    public NATS.Client.Core.NatsConnection? Connection { get; init; }
    public required string Camera { get; init; }
    public string FrameId { get; init; } = "camera_optical_frame";
    /// <summary>Add the labels (PNG) and depth (PNG16, mm) to every message.</summary>
    public bool Maps { get; init; }
    /// <summary>Every frame's results, pacing the run if the bus is slow (files); otherwise the newest frame wins (live sources).</summary>
    public bool EveryFrame { get; init; }
}
