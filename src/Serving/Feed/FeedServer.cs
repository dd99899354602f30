using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RealtimeMtl.Capture.Labels;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Serving.Feed;

/// <summary>
/// The gRPC perception feed (protos/rtmtl_feed.proto), HTTP/2 plaintext on the given address (loopback by default).
/// Each subscriber has its own two-frame drop-oldest queue: a slow or vanished subscriber loses frames, never the
/// engine. Subscribers are capped; with a token, every call must carry it.
/// </summary>
public sealed class FeedServer : IFrameSink
{
    private readonly ServeOptions _options;
    private readonly LabelSet _labels;
    private readonly PipelineStats _stats;
    private readonly Lock _gate = new();
    private readonly List<NewestWins<FeedPayload>> _subscribers = [];
    // Subscribers that asked for the input image: the JPEG is encoded only while there is one.
    private readonly HashSet<NewestWins<FeedPayload>> _wantImage = [];
    private WebApplication? _app;
    private bool _completed;
    private Capture.Frames.CameraIntrinsics? _camera;

    public FeedServer(ServeOptions options, RealtimeMtl.Pipeline.Model.ModelInfo model, PipelineStats stats, FeedOptions? feed = null) : this(options, model.Labels, stats, feed)
    {
        _model = model;
    }

    private readonly RealtimeMtl.Pipeline.Model.ModelInfo? _model;

    public FeedServer(ServeOptions options, LabelSet labels, PipelineStats stats, FeedOptions? feed = null)
    {
        _options = options;
        _labels = labels;
        _stats = stats;
        Feed = feed ?? new FeedOptions();
        _camera = Feed.Calibration;
    }

    public FeedOptions Feed { get; }

    /// <summary>Where it listens (the bound port when port 0 was asked for).</summary>
    public System.Net.IPEndPoint Endpoint { get; private set; } = null!;

    public string Name => "feed";
    public bool Lossless => false;
    public int Subscribers { get { lock (_gate) return _subscribers.Count; } }
    public bool Wanted => Subscribers > 0;

    public async Task StartAsync()
    {
        var builder = KestrelHost.Builder(_options.Endpoint, HttpProtocols.Http2);
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 4096);
        builder.Services.AddSingleton(this);
        var app = builder.Build();
        app.MapGrpcService<PerceptionFeedService>();
        _app = await KestrelHost.StartAsync(app, "--feed", _options.Endpoint);
        Endpoint = KestrelHost.Bound(_app, _options.Endpoint);
    }

    internal bool Authorised(ServerCallContext context, string token)
    {
        if (string.IsNullOrEmpty(_options.Token)) return true;
        var given = token;
        if (string.IsNullOrEmpty(given))
        {
            given = AccessToken.FromAuthorization(context.RequestHeaders.GetValue("authorization"));
        }
        return AccessToken.Matches(given, _options.Token);
    }

    internal NewestWins<FeedPayload>? Subscribe(bool image = false)
    {
        lock (_gate)
        {
            if (_subscribers.Count >= _options.MaxViewers) return null;
            var ch = new NewestWins<FeedPayload>(2);
            if (_completed) ch.Complete();
            _subscribers.Add(ch);
            if (image && Feed.Image) _wantImage.Add(ch);
            return ch;
        }
    }

    internal void Unsubscribe(NewestWins<FeedPayload> ch)
    {
        lock (_gate) { _subscribers.Remove(ch); _wantImage.Remove(ch); }
    }

    /// <summary>
    /// Model, classes with their palette, depth range and device (from the model's rtmtl.* metadata), the frame id,
    /// and the camera: the user's calibration, or the last frame's intrinsics once frames have flowed.
    /// </summary>
    internal FeedDescription Describe()
    {
        var d = new FeedDescription
        {
            Model = _stats.ModelName, Architecture = _model?.Architecture ?? "", Backbone = _model?.Backbone ?? "",
            DepthMinM = _model?.DepthMin ?? 0, DepthMaxM = _model?.DepthMax ?? 0, Device = _stats.Device,
            ClassNames = { _labels.Classes },
            Palette = { _labels.HexPalette() },
            FrameId = Feed.FrameId, ImageAvailable = Feed.Image,
        };
        if (Volatile.Read(ref _camera) is { } k) d.CameraInfo = FeedPayload.Info(k);
        return d;
    }

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        NewestWins<FeedPayload>[] subs;
        bool image;
        lock (_gate) { subs = _subscribers.ToArray(); image = _wantImage.Count > 0; }
        if (subs.Length == 0) return ValueTask.CompletedTask;
        var payload = FeedPayload.From(packet, _labels, Feed.FrameId, image);
        if (payload.Intrinsics is { } k) Volatile.Write(ref _camera, k);
        foreach (var s in subs) s.Offer(payload);
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync()
    {
        lock (_gate)
        {
            _completed = true;
            foreach (var s in _subscribers) s.Complete();
        }
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await CompleteAsync();
        await KestrelHost.StopAsync(_app);
    }
}

internal sealed class PerceptionFeedService(FeedServer server) : PerceptionFeed.PerceptionFeedBase
{
    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<FeedFrame> responseStream, ServerCallContext context)
    {
        if (!server.Authorised(context, request.Token)) throw new RpcException(new Status(StatusCode.Unauthenticated, "this feed needs the engine's --token"));
        var ch = server.Subscribe(request.IncludeImage) ?? throw new RpcException(new Status(StatusCode.ResourceExhausted, "too many subscribers"));
        try
        {
            var sent = 0u;
            Capture.Frames.CameraIntrinsics? camera = null;
            await foreach (var payload in ch.Reader.ReadAllAsync(context.CancellationToken))
            {
                // Camera info on the first frame and whenever the camera or the size changes.
                var newCamera = payload.Intrinsics is { } k && !k.SameCamera(camera);
                if (newCamera) camera = payload.Intrinsics;
                await responseStream.WriteAsync(payload.ToMessage(request.DepthEncoding, request.IncludeConfidence, request.IncludeImage, newCamera), context.CancellationToken);
                if (request.MaxFrames > 0 && ++sent >= request.MaxFrames) break;
            }
        }
        catch (OperationCanceledException) { }
        finally { server.Unsubscribe(ch); }
    }

    public override Task<FeedDescription> Describe(DescribeRequest request, ServerCallContext context)
    {
        if (!server.Authorised(context, request.Token)) throw new RpcException(new Status(StatusCode.Unauthenticated, "this feed needs the engine's --token"));
        return Task.FromResult(server.Describe());
    }
}
