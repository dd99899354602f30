using System.Runtime.InteropServices;
using Google.Protobuf;
using NATS.Client.Core;
using OpenCvSharp;
using RealtimeMtl.Distributed.Nats;
using RealtimeMtl.Feed;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

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

    /// <summary>Publishes on <paramref name="connection"/> (a worker's), or connects to <see cref="PublisherOptions.Endpoint"/> in <see
    /// cref="StartAsync"/>.</summary>
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
        // The server's largest message (NATS: 1 MB by default); a bigger one would be refused, so maps are scaled to fit.
        MaxPayload = _connection.ServerInfo?.MaxPayload is > 0 and var max ? max : MaxPayload;
    }

    /// <summary>The largest message the server takes (from its INFO at connect; 1 MB, NATS's default, until then).</summary>
    public long MaxPayload { get; private set; } = 1024 * 1024;

    /// <summary>Room left in a message for NATS's own headers and the subject.</summary>
    private const int Headroom = 1024;

    public async ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("StartAsync first");
        var bytes = Build(packet).ToByteArray();
        // Maps too big for the server: scaled down (halved until they fit) rather than refused; counted.
        for (var scale = 0.5; bytes.Length > MaxPayload - Headroom && _options.Maps && scale >= 1.0 / 64; scale /= 2)
        {
            bytes = Build(packet, scale).ToByteArray();
            if (bytes.Length <= MaxPayload - Headroom) Interlocked.Increment(ref _scaled);
        }
        if (bytes.Length > MaxPayload - Headroom)
        {
            Interlocked.Increment(ref _lost);
            return;
        }
        try
        {
            await connection.PublishAsync(Subject, bytes, cancellationToken: cancellationToken);
            Interlocked.Increment(ref _published);
        }
        catch (NatsException)
        {
            // The server is away (the connection reconnects on its own): results on the bus are best effort, the
            // job's outputs are not, so the frame is counted and the run goes on.
            Interlocked.Increment(ref _lost);
        }
    }

    private long _scaled;

    /// <summary>Frames whose results could not be published (the server was unreachable, or the message too big).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Frames whose maps were scaled down to fit the server's largest message.</summary>
    public long Scaled => Interlocked.Read(ref _scaled);

    /// <summary>One line for the run's summary: what went on the bus, and what did not.</summary>
    public string Report() =>
        $"bus     {Subject}: {Published} published, {Lost} lost" + (Scaled > 0 ? $", {Scaled} with maps scaled down to fit the server's "
            + $"{MaxPayload / 1024} KiB message limit" : "");

    /// <summary>The frame's message: the feed's FeedFrame without raw maps, plus camera and depth percentiles.</summary>
    public FeedFrame Build(FramePacket packet, double mapScale = 1)
    {
        var payload = FeedPayload.From(packet, _labels, _options.FrameId, image: false);
        var m = new FeedFrame
        {
            Sequence = payload.Sequence, ReceiveTimeUnixNs = payload.ReceiveUnixNs, Width = (uint)payload.Width, Height = (uint)payload.Height,
            MediaTimeS = payload.MediaTimeSeconds, Camera = _options.Camera,
            Header = new Header
            {
                FrameId = payload.FrameId, StampUnixNs = payload.StampUnixNs, StampSource = payload.StampFromSensor
                ? StampSource.StampSensor : StampSource.StampReceive
            },
            DepthSummary = Summary(payload.Depth),
        };
        m.Classes.AddRange(payload.Classes);
        if (payload.Intrinsics is { } k) m.Intrinsics = new RealtimeMtl.Feed.CameraIntrinsics { Fx = k.Fx, Fy = k.Fy, Cx = k.Cx, Cy = k.Cy };
        if (_options.Maps)
        {
            using var labels = new Mat();
            using var mm = new Mat();
            packet.Depth.ConvertTo(mm, MatType.CV_16UC1, 1000.0);
            if (mapScale < 1)
            {
                // Nearest: class ids and depths stay values that were measured, never blends of neighbours.
                var size = new Size(Math.Max(1, (int)(packet.Labels.Cols * mapScale)), Math.Max(1, (int)(packet.Labels.Rows * mapScale)));
                Cv2.Resize(packet.Labels, labels, size, interpolation: InterpolationFlags.Nearest);
                Cv2.Resize(mm, mm, size, interpolation: InterpolationFlags.Nearest);
            }
            else packet.Labels.CopyTo(labels);
            Cv2.ImEncode(".png", labels, out var labelsPng);
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
