using System.Runtime.InteropServices;
using Google.Protobuf;
using NATS.Client.Core;
using OpenCvSharp;
using RealtimeMtl.Capture.Labels;
using RealtimeMtl.Distributed.Nats;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Serving.Feed;

namespace RealtimeMtl.Distributed.Bus;

/// <summary>
/// Publishes each frame's results to <c>rtmtl.frames.{camera}</c> as the gRPC feed's <c>FeedFrame</c> (one schema for
/// the feed and the bus): header, camera, per-class share and depth, the frame's depth percentiles, and with
/// <see cref="PublisherOptions.Maps"/> the labels (PNG) and depth (PNG16, mm). For a live source it is lossy (when the
/// bus is slow or down, older frames are skipped and inference never waits); for a file every frame is published.
/// </summary>
public sealed class NatsFramePublisher : IFrameSink
{
    private readonly PublisherOptions _options;
    private readonly LabelSet _labels;
    private readonly bool _ownsConnection;
    private NatsConnection? _connection;
    private long _published, _lost;

    /// <summary>Publishes on <paramref name="connection"/> (a worker's), or connects to <see cref="PublisherOptions.Endpoint"/> in <see cref="StartAsync"/>.</summary>
    public NatsFramePublisher(PublisherOptions options, LabelSet labels)
    {
        _options = options;
        _labels = labels;
        var connection = options.Connection;
        _connection = connection;
        Subject = FrameSubjects.For(options.Camera);
        if (connection is null && options.Endpoint is null) throw new ArgumentException("a frame publisher needs a NATS connection or endpoint");
        _ownsConnection = connection is null;
    }

    public string Subject { get; }
    public string Name => "publish";
    /// <summary>Reads labels and depth, never the drawn picture.</summary>
    public bool UsesPicture => false;
    public bool Lossless => _options.EveryFrame;
    public long Published => Interlocked.Read(ref _published);

    public async Task StartAsync(CancellationToken ct = default)
    {
        _connection ??= await _options.Endpoint!.ConnectAsync($"rtmtl-publish-{_options.Camera}", ct);
    }

    public async ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("StartAsync first");
        var message = Build(packet);
        try
        {
            await connection.PublishAsync(Subject, message.ToByteArray(), cancellationToken: cancellationToken);
            Interlocked.Increment(ref _published);
        }
        catch (NatsException)
        {
            // The server is away (the connection reconnects on its own): results on the bus are best effort, the
            // job's outputs are not, so the frame is counted and the run goes on.
            Interlocked.Increment(ref _lost);
        }
    }

    /// <summary>Frames whose results could not be published (the server was unreachable).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>The frame's message: the feed's FeedFrame without raw maps, plus camera and depth percentiles.</summary>
    public FeedFrame Build(FramePacket packet)
    {
        var payload = FeedPayload.From(packet, _labels, _options.FrameId, image: false);
        var m = new FeedFrame
        {
            Sequence = payload.Sequence, ReceiveTimeUnixNs = payload.ReceiveUnixNs, Width = (uint)payload.Width, Height = (uint)payload.Height,
            MediaTimeS = payload.MediaTimeSeconds, Camera = _options.Camera,
            Header = new Header { FrameId = payload.FrameId, StampUnixNs = payload.StampUnixNs, StampSource = payload.StampFromSensor ? StampSource.StampSensor : StampSource.StampReceive },
            DepthSummary = Summary(payload.Depth),
        };
        m.Classes.AddRange(payload.Classes);
        if (payload.Intrinsics is { } k) m.Intrinsics = new Serving.Feed.CameraIntrinsics { Fx = k.Fx, Fy = k.Fy, Cx = k.Cx, Cy = k.Cy };
        if (_options.Maps)
        {
            Cv2.ImEncode(".png", packet.Labels, out var labelsPng);
            using var mm = new Mat();
            packet.Depth.ConvertTo(mm, MatType.CV_16UC1, 1000.0);
            Cv2.ImEncode(".png", mm, out var depthPng);
            m.LabelsPng = ByteString.CopyFrom(labelsPng);
            m.DepthPngMm = ByteString.CopyFrom(depthPng);
        }
        return m;
    }

    /// <summary>2nd, 50th and 98th percentiles (<see cref="RealtimeMtl.Common.Measuring.Percentile"/>: nearest rank) and the valid share.</summary>
    public static DepthSummary Summary(float[] depth)
    {
        var valid = depth.Where(v => v > 0 && float.IsFinite(v)).ToArray();
        if (valid.Length == 0) return new DepthSummary();
        Array.Sort(valid);
        float At(double q) => RealtimeMtl.Common.Measuring.Percentile.OfSorted(valid, q);
        return new DepthSummary { P2M = At(0.02), P50M = At(0.5), P98M = At(0.98), ValidShare = (float)valid.Length / depth.Length };
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        // Only a connection made here is ours to close; a worker's connection outlives its jobs.
        if (_ownsConnection && _connection is not null) await _connection.DisposeAsync();
    }
}
