using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RealtimeMtl.Common.Concurrency;
using RealtimeMtl.Feed;
using RealtimeMtl.Pipeline.Labels;
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
    // Several cameras: the cameras each subscriber asked for (absent: all), and the subscribers of whole sets.
    private readonly Dictionary<NewestWins<FeedPayload>, HashSet<string>> _only = [];
    private readonly List<(NewestWins<FeedPayload[]> Queue, HashSet<string>? Only)> _setSubscribers = [];
    private readonly Dictionary<long, List<FeedPayload>> _openSets = [];
    private readonly (string Name, string FrameId)[] _cameras = [];
    private WebApplication? _app;
    private bool _completed;
    private RealtimeMtl.Pipeline.Frames.CameraIntrinsics? _camera;

    public FeedServer(ServeOptions options, RealtimeMtl.Pipeline.Model.ModelInfo model, PipelineStats stats, FeedOptions? feed = null) : this(options,
        model.Labels, stats, feed)
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

    /// <summary>
    /// Several cameras: every frame carries its camera's name and frame id (and its camera info); subscribers may ask
    /// for some cameras only, and with <paramref name="syncMs"/> SubscribeSets gives whole synchronised sets.
    /// This object is the first camera's sink; <see cref="CameraSink"/> gives the others'.
    /// </summary>
    public FeedServer(ServeOptions options, RealtimeMtl.Pipeline.Model.ModelInfo model, PipelineStats stats, FeedOptions feed,
        IReadOnlyList<(string Name, string FrameId)> cameras, double? syncMs)
        : this(options, model, stats, feed)
    {
        _cameras = [.. cameras];
        SyncMs = syncMs;
    }

    public double? SyncMs { get; }

    /// <summary>The sink of camera <paramref name="index"/> (this object for camera 0).</summary>
    public IFrameSink CameraSink(int index) => index == 0 ? this : new CameraSink(Name, false, p => Publish(p, index), () => Wanted,
        usesPicture: false);

    public FeedOptions Feed { get; }

    /// <summary>Where it listens (the bound port when port 0 was asked for).</summary>
    public System.Net.IPEndPoint Endpoint { get; private set; } = null!;

    public string Name => "feed";

    /// <summary>Reads labels and depth, never the drawn picture.</summary>

    public bool UsesPicture => false;
    public bool Lossless => false;
    public int Subscribers { get { lock (_gate) return _subscribers.Count + _setSubscribers.Count; } }
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

    internal NewestWins<FeedPayload>? Subscribe(bool image = false, IReadOnlyCollection<string>? cameras = null)
    {
        lock (_gate)
        {
            if (Subscribers >= _options.MaxViewers) return null;
            var ch = new NewestWins<FeedPayload>(2 * Math.Max(1, _cameras.Length));
            if (_completed) ch.Complete();
            _subscribers.Add(ch);
            if (image && Feed.Image) _wantImage.Add(ch);
            if (cameras is { Count: > 0 }) _only[ch] = [.. cameras];
            return ch;
        }
    }

    internal void Unsubscribe(NewestWins<FeedPayload> ch)
    {
        lock (_gate) { _subscribers.Remove(ch); _wantImage.Remove(ch); _only.Remove(ch); }
    }

    /// <summary>A subscriber of whole synchronised sets (null when the server is full).</summary>
    internal NewestWins<FeedPayload[]>? SubscribeSets(IReadOnlyCollection<string>? cameras)
    {
        lock (_gate)
        {
            if (Subscribers >= _options.MaxViewers) return null;
            var ch = new NewestWins<FeedPayload[]>(4);
            if (_completed) ch.Complete();
            _setSubscribers.Add((ch, cameras is { Count: > 0 } ? [.. cameras] : null));
            return ch;
        }
    }

    internal void UnsubscribeSets(NewestWins<FeedPayload[]> ch)
    {
        lock (_gate) _setSubscribers.RemoveAll(s => s.Queue == ch);
    }

    /// <summary>The camera names a request may name (empty for one camera).</summary>
    internal IReadOnlyList<string> CameraNames => _cameras.Select(c => c.Name).ToList();

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
            Cameras = { _cameras.Select(c => c.Name) }, SyncMs = (uint)Math.Round(SyncMs ?? 0),
        };
        if (Volatile.Read(ref _camera) is { } k) d.CameraInfo = FeedPayload.Info(k);
        return d;
    }

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken) => Publish(packet, 0);

    private ValueTask Publish(FramePacket packet, int index)
    {
        var (name, frameId) = _cameras.Length == 0 ? ("", Feed.FrameId) : _cameras[index];
        NewestWins<FeedPayload>[] subs;
        bool image, sets;
        lock (_gate)
        {
            subs = _subscribers.Where(s => !_only.TryGetValue(s, out var only) || only.Contains(name)).ToArray();
            image = _wantImage.Count > 0;
            sets = _setSubscribers.Count > 0 && packet.SetId >= 0;
        }
        if (subs.Length == 0 && !sets) return ValueTask.CompletedTask;
        var payload = FeedPayload.From(packet, _labels, frameId, image, name);
        if (index == 0 && payload.Intrinsics is { } k) Volatile.Write(ref _camera, k);
        foreach (var s in subs) s.Offer(payload);
        if (sets) AddToSet(payload);
        return ValueTask.CompletedTask;
    }

    /// <summary>Collects a set's frames (they arrive from each camera's own sink task); a whole set goes to the set subscribers.</summary>
    private void AddToSet(FeedPayload payload)
    {
        FeedPayload[]? whole = null;
        (NewestWins<FeedPayload[]> Queue, HashSet<string>? Only)[] subs;
        lock (_gate)
        {
            if (!_openSets.TryGetValue(payload.SetId, out var parts)) _openSets[payload.SetId] = parts = [];
            parts.Add(payload);
            if (parts.Count == payload.SetSize)
            {
                _openSets.Remove(payload.SetId);
                whole = [.. parts.OrderBy(p => Array.FindIndex(_cameras, c => c.Name == p.Camera))];
            }
            // A set whose frames did not all reach this sink (a viewer drop) is given up after newer ones.
            foreach (var stale in _openSets.Keys.Where(id => id < payload.SetId - 8).ToList()) _openSets.Remove(stale);
            subs = [.. _setSubscribers];
        }
        if (whole is null) return;
        foreach (var (queue, only) in subs) queue.Offer(only is null ? whole : whole.Where(p => only.Contains(p.Camera)).ToArray());
    }

    public ValueTask CompleteAsync()
    {
        lock (_gate)
        {
            _completed = true;
            foreach (var s in _subscribers) s.Complete();
            foreach (var (queue, _) in _setSubscribers) queue.Complete();
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
        if (!server.Authorised(context, request.Token)) throw new RpcException(new Status(StatusCode.Unauthenticated,
            "this feed needs the engine's --token"));
        CheckCameras(request);
        var ch = server.Subscribe(request.IncludeImage, request.Cameras) ?? throw new RpcException(new Status(StatusCode.ResourceExhausted,
            "too many subscribers"));
        try
        {
            var sent = 0u;
            RealtimeMtl.Pipeline.Frames.CameraIntrinsics? camera = null;
            var several = server.CameraNames.Count > 0;
            await foreach (var payload in ch.Reader.ReadAllAsync(context.CancellationToken))
            {
                // Camera info on the first frame and whenever the camera or the size changes; with several cameras, on every frame.
                var newCamera = payload.Intrinsics is { } k && (several || !k.SameCamera(camera));
                if (newCamera) camera = payload.Intrinsics;
                await responseStream.WriteAsync(payload.ToMessage(request.DepthEncoding, request.IncludeConfidence, request.IncludeImage, newCamera),
                    context.CancellationToken);
                if (request.MaxFrames > 0 && ++sent >= request.MaxFrames) break;
            }
        }
        catch (OperationCanceledException) { }
        finally { server.Unsubscribe(ch); }
    }

    public override async Task SubscribeSets(SubscribeRequest request, IServerStreamWriter<FrameSet> responseStream, ServerCallContext context)
    {
        if (!server.Authorised(context, request.Token)) throw new RpcException(new Status(StatusCode.Unauthenticated,
            "this feed needs the engine's --token"));
        if (server.SyncMs is null) throw new RpcException(new Status(StatusCode.FailedPrecondition,
            "this engine makes no synchronised sets: run it with several cameras and --sync-ms"));
        CheckCameras(request);
        var ch = server.SubscribeSets(request.Cameras) ?? throw new RpcException(new Status(StatusCode.ResourceExhausted, "too many subscribers"));
        try
        {
            var sent = 0u;
            await foreach (var frames in ch.Reader.ReadAllAsync(context.CancellationToken))
            {
                if (frames.Length == 0) continue;
                var set = new FrameSet { Set = (ulong)frames[0].SetId, StampSpreadNs = frames[0].SetSpreadNs };
                foreach (var f in frames) set.Frames.Add(f.ToMessage(request.DepthEncoding, request.IncludeConfidence, request.IncludeImage,
                    cameraInfo: true));
                await responseStream.WriteAsync(set, context.CancellationToken);
                if (request.MaxFrames > 0 && ++sent >= request.MaxFrames) break;
            }
        }
        catch (OperationCanceledException) { }
        finally { server.UnsubscribeSets(ch); }
    }

    private void CheckCameras(SubscribeRequest request)
    {
        var known = server.CameraNames;
        if (request.Cameras.FirstOrDefault(c => !known.Contains(c)) is { } unknown)
            throw new RpcException(new Status(StatusCode.InvalidArgument, known.Count == 0
                ? $"camera '{unknown}': this engine runs one camera; leave cameras empty"
                : $"camera '{unknown}' is not one of this engine's: {string.Join(", ", known)}"));
    }

    public override Task<FeedDescription> Describe(DescribeRequest request, ServerCallContext context)
    {
        if (!server.Authorised(context, request.Token)) throw new RpcException(new Status(StatusCode.Unauthenticated,
            "this feed needs the engine's --token"));
        return Task.FromResult(server.Describe());
    }
}
