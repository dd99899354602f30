using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using RealtimeMtl.Common.Concurrency;
using RealtimeMtl.Feed;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Serving.Feed;

namespace RealtimeMtl.Serving.Foxglove;

/// <summary>
/// A Foxglove WebSocket server (<see cref="FoxgloveProtocol"/>) so Foxglove or Lichtblick can open the engine without
/// ROS. Channels (<see cref="FoxgloveChannel.Table"/>), binary: ROS 2 messages in CDR with ros2msg schemas, as
/// foxglove_bridge sends them:
///   /rtmtl/annotated   sensor_msgs/CompressedImage (jpeg)   /rtmtl/labels  sensor_msgs/Image (mono8, class ids)
///   /rtmtl/depth       sensor_msgs/Image (32FC1, metres, REP 118: NaN invalid)
///   /rtmtl/camera_info sensor_msgs/CameraInfo               /rtmtl/points  sensor_msgs/PointCloud2 (x,y,z,rgba,label)
///   /rtmtl/classes     std_msgs/String (JSON {schema_version, classes:[{id,name,color}]})
///   /tf_static         tf2_msgs/TFMessage (camera_link to the frame id)
/// Each client has a bounded drop-oldest queue: a client that cannot keep up gets the latest frames only.
/// Message time: the sensor's own time where the source records one, else the engine's receive time.
/// </summary>
public sealed class FoxgloveServer : IFrameSink
{
    public const string SubProtocol = FoxgloveProtocol.SubProtocol;
    private readonly ServeOptions _options;
    private readonly IReadOnlyList<FoxgloveChannel> _channels;
    private readonly ConcurrentDictionary<Client, byte> _clients = new();
    private WebApplication? _app;

    public FoxgloveServer(ServeOptions options, LabelSet labels, FeedOptions? feed = null)
    {
        _options = options;
        _channels = FoxgloveChannel.Table(new FoxgloveEncoders(labels, feed?.FrameId ?? "camera_optical_frame"));
    }

    /// <summary>Several cameras: topics per camera (see <see cref="FoxgloveChannel.Table(IReadOnlyList{ValueTuple{string, FoxgloveEncoders}})"/>),
    /// each with its own frame id.</summary>
    public FoxgloveServer(ServeOptions options, LabelSet labels, IReadOnlyList<(string Camera, string FrameId)> cameras)
    {
        _options = options;
        _channels = FoxgloveChannel.Table(cameras.Select(c => (c.Camera, new FoxgloveEncoders(labels, c.FrameId))).ToList());
    }

    /// <summary>The sink of camera <paramref name="index"/> (this object for camera 0).</summary>
    public IFrameSink CameraSink(int index) => index == 0 ? this : new CameraSink(Name, false, p => Publish(p, index), () => Wanted);

    /// <summary>Where it listens (the bound port when port 0 was asked for).</summary>
    public System.Net.IPEndPoint Endpoint { get; private set; } = null!;

    public string Name => "foxglove";
    public bool Lossless => false;
    public int Clients => _clients.Count;
    public bool Wanted => !_clients.IsEmpty;

    private sealed class Client(WebSocket socket)
    {
        public WebSocket Socket { get; } = socket;
        public ConcurrentDictionary<int, uint> Subscriptions { get; } = new(); // channel id -> subscription id
        public NewestWins<byte[]> Outbox { get; } = new(12);
    }

    public async Task StartAsync()
    {
        var app = KestrelHost.Builder(_options.Endpoint, HttpProtocols.Http1).Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Run(async ctx =>
        {
            if (ctx.Request.Path != "/" || !ctx.WebSockets.IsWebSocketRequest) { ctx.Response.StatusCode = 404; return; }
            if (RequestGuard.Refusal(ctx, Endpoint, _options.Token) is { } refused) { ctx.Response.StatusCode = refused; return; }
            if (!AccessToken.Allows(ctx, _options.Token)) { ctx.Response.StatusCode = 401; return; }
            if (!ctx.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol))
            {
                ctx.Response.StatusCode = 400; await
                ctx.Response.WriteAsync($"use subprotocol {SubProtocol}"); return;
            }
            if (_clients.Count >= _options.MaxViewers) { ctx.Response.StatusCode = 503; return; }
            using var socket = await ctx.WebSockets.AcceptWebSocketAsync(SubProtocol);
            await Serve(new Client(socket), ctx.RequestAborted);
        });
        _app = await KestrelHost.StartAsync(app, "--foxglove", _options.Endpoint);
        Endpoint = KestrelHost.Bound(_app, _options.Endpoint);
    }

    private async Task Serve(Client client, CancellationToken ct)
    {
        _clients[client] = 0;
        try
        {
            await client.Socket.SendAsync(FoxgloveProtocol.ServerInfo("rtmtl"), WebSocketMessageType.Text, true, ct);
            await client.Socket.SendAsync(FoxgloveProtocol.Advertise(_channels), WebSocketMessageType.Text, true, ct);
            var writer = Task.Run(async () =>
            {
                await foreach (var message in client.Outbox.Reader.ReadAllAsync(ct))
                    await client.Socket.SendAsync(message, WebSocketMessageType.Binary, true, ct);
            }, ct);
            var buffer = new byte[16 * 1024];
            while (client.Socket.State == WebSocketState.Open && !ct.IsCancellationRequested)
            {
                var result = await client.Socket.ReceiveAsync(buffer, ct);
                if (result.MessageType == WebSocketMessageType.Close) break;
                if (!result.EndOfMessage || result.MessageType != WebSocketMessageType.Text) continue; // oversized or binary: ignored
                var (subscribe, unsubscribe) = FoxgloveProtocol.Parse(buffer.AsSpan(0, result.Count));
                foreach (var (channel, id) in subscribe) client.Subscriptions[channel] = id;
                foreach (var id in unsubscribe)
                    foreach (var kv in client.Subscriptions.Where(kv => kv.Value == id).ToList()) client.Subscriptions.TryRemove(kv.Key, out _);
            }
            client.Outbox.Complete();
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException) { }
        finally { _clients.TryRemove(client, out _); client.Outbox.Complete(); }
    }

    public ValueTask WriteAsync(FramePacket p, CancellationToken cancellationToken) => Publish(p, 0);

    private ValueTask Publish(FramePacket p, int camera)
    {
        if (_clients.IsEmpty) return ValueTask.CompletedTask;
        var wanted = new HashSet<int>(_clients.Keys.SelectMany(c => c.Subscriptions.Keys));
        if (wanted.Count == 0) return ValueTask.CompletedTask;
        var timeNs = FrameTime.Stamp(p.Frame).UnixNs;
        // Each subscribed channel is encoded once per frame, then framed per subscription.
        var payloads = new Dictionary<int, byte[]>();
        foreach (var channel in _channels)
            if (channel.Camera == camera && wanted.Contains(channel.Id) && channel.Encode(p, timeNs) is { } message) payloads[channel.Id] = message;
        foreach (var client in _clients.Keys)
            foreach (var (channel, sub) in client.Subscriptions)
                if (payloads.TryGetValue(channel, out var body)) client.Outbox.Offer(FoxgloveProtocol.Message(sub, timeNs, body));
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync()
    {
        foreach (var c in _clients.Keys) c.Outbox.Complete();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await CompleteAsync();
        await KestrelHost.StopAsync(_app);
    }
}
