using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpenCvSharp;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Capture.Labels;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Serving;

/// <summary>
/// A Foxglove WebSocket server (subprotocol foxglove.websocket.v1, the protocol of foxglove_bridge) so Foxglove or
/// Lichtblick can open the engine without ROS. Channels (JSON encoding, Foxglove's published schemas):
///   /rtmtl/annotated  foxglove.CompressedImage (jpeg)      /rtmtl/labels  foxglove.RawImage (mono8, class ids)
///   /rtmtl/depth      foxglove.RawImage (32FC1, metres, REP 118: 0/NaN invalid)
///   /rtmtl/calibration foxglove.CameraCalibration          /rtmtl/points  foxglove.PointCloud (x,y,z,rgba,label)
///   /rtmtl/classes    rtmtl.ClassMap {classes:[{id,name,color}]}
/// Each client has a bounded drop-oldest queue: a client that cannot keep up gets the latest frames only.
/// Message time = the frame's media time when the source has one, else its capture time.
/// </summary>
public sealed class FoxgloveServer : IFrameSink
{
    public const string SubProtocol = "foxglove.websocket.v1";
    private static readonly string[] Topics = ["/rtmtl/annotated", "/rtmtl/labels", "/rtmtl/depth", "/rtmtl/calibration", "/rtmtl/points", "/rtmtl/classes"];
    private static readonly string[] Schemas = ["foxglove.CompressedImage", "foxglove.RawImage", "foxglove.RawImage", "foxglove.CameraCalibration", "foxglove.PointCloud", "rtmtl.ClassMap"];
    private readonly ServeOptions _options;
    private readonly LabelSet _labels;
    private readonly ConcurrentDictionary<Client, byte> _clients = new();
    private readonly ImageEncodingParam[] _jpeg = [new(ImwriteFlags.JpegQuality, 80)];
    private WebApplication? _app;
    private readonly string _frameId;

    public FoxgloveServer(ServeOptions options, LabelSet labels, Feed.FeedOptions? feed = null)
    {
        _frameId = feed?.FrameId ?? "camera";
        _options = options;
        _labels = labels;
    }

    public string Name => "foxglove";
    public bool Lossless => false;
    public int Clients => _clients.Count;

    private sealed class Client(WebSocket socket)
    {
        public WebSocket Socket { get; } = socket;
        public ConcurrentDictionary<int, uint> Subscriptions { get; } = new(); // channel id -> subscription id
        public Channel<byte[]> Outbox { get; } = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(12) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => { k.Listen(_options.Endpoint); k.Limits.MaxRequestBodySize = 4096; });
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Run(async ctx =>
        {
            if (ctx.Request.Path != "/" || !ctx.WebSockets.IsWebSocketRequest) { ctx.Response.StatusCode = 404; return; }
            if (!AccessToken.Allows(ctx, _options.Token)) { ctx.Response.StatusCode = 401; return; }
            if (!ctx.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol)) { ctx.Response.StatusCode = 400; await ctx.Response.WriteAsync($"use subprotocol {SubProtocol}"); return; }
            if (_clients.Count >= _options.MaxViewers) { ctx.Response.StatusCode = 503; return; }
            using var socket = await ctx.WebSockets.AcceptWebSocketAsync(SubProtocol);
            await Serve(new Client(socket), ctx.RequestAborted);
        });
        try { await app.StartAsync(); }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new ArgumentException($"--foxglove {_options.Endpoint}: cannot listen there ({e.Message}); pick another port.");
        }
        _app = app;
    }

    private async Task Serve(Client client, CancellationToken ct)
    {
        _clients[client] = 0;
        try
        {
            await SendText(client.Socket, new JsonObject
            {
                ["op"] = "serverInfo", ["name"] = "rtmtl", ["capabilities"] = new JsonArray(), ["supportedEncodings"] = new JsonArray(),
                ["metadata"] = new JsonObject(), ["sessionId"] = Guid.NewGuid().ToString("N"),
            }, ct);
            var channels = new JsonArray();
            for (var i = 0; i < Topics.Length; i++)
                channels.Add(new JsonObject { ["id"] = i + 1, ["topic"] = Topics[i], ["encoding"] = "json", ["schemaName"] = Schemas[i], ["schema"] = SchemaFor(Schemas[i]), ["schemaEncoding"] = "jsonschema" });
            await SendText(client.Socket, new JsonObject { ["op"] = "advertise", ["channels"] = channels }, ct);
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
                Handle(client, buffer.AsSpan(0, result.Count));
            }
            client.Outbox.Writer.TryComplete();
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException) { }
        finally { _clients.TryRemove(client, out _); client.Outbox.Writer.TryComplete(); }
    }

    private static void Handle(Client client, ReadOnlySpan<byte> json)
    {
        JsonNode? msg;
        try { msg = JsonNode.Parse(json); } catch (JsonException) { return; }
        switch ((string?)msg?["op"])
        {
            case "subscribe":
                foreach (var s in msg!["subscriptions"]?.AsArray() ?? [])
                    if (s?["id"] is { } id && s["channelId"] is { } ch) client.Subscriptions[(int)ch] = (uint)id;
                break;
            case "unsubscribe":
                foreach (var id in msg!["subscriptionIds"]?.AsArray() ?? [])
                    foreach (var kv in client.Subscriptions.Where(kv => kv.Value == (uint)id!).ToList()) client.Subscriptions.TryRemove(kv.Key, out _);
                break;
        }
    }

    private static Task SendText(WebSocket socket, JsonObject message, CancellationToken ct) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, ct);

    public bool Wanted => !_clients.IsEmpty;

    public ValueTask WriteAsync(FramePacket p, CancellationToken cancellationToken)
    {
        if (_clients.IsEmpty) return ValueTask.CompletedTask;
        var wanted = new HashSet<int>(_clients.Keys.SelectMany(c => c.Subscriptions.Keys));
        if (wanted.Count == 0) return ValueTask.CompletedTask;
        // The sensor's own time where the source records one (TUM), else the engine's receive time.
        var timeNs = FrameTime.Stamp(p.Frame).UnixNs;
        var stamp = new JsonObject { ["sec"] = timeNs / 1_000_000_000, ["nsec"] = timeNs % 1_000_000_000 };
        var payloads = new Dictionary<int, byte[]>();
        foreach (var channel in wanted)
        {
            var body = Build(channel, p, stamp);
            if (body is not null) payloads[channel] = body;
        }
        foreach (var client in _clients.Keys)
        foreach (var (channel, sub) in client.Subscriptions)
        {
            if (!payloads.TryGetValue(channel, out var body)) continue;
            var message = new byte[13 + body.Length];
            message[0] = 0x01; // Message Data
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(1), sub);
            BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(5), (ulong)timeNs);
            body.CopyTo(message, 13);
            client.Outbox.Writer.TryWrite(message);
        }
        return ValueTask.CompletedTask;
    }

    private unsafe byte[]? Build(int channel, FramePacket p, JsonObject stamp)
    {
        int w = p.Frame.Width, h = p.Frame.Height;
        JsonObject o;
        switch (channel)
        {
            case 1:
                if (p.Rendered is null) return null;
                Cv2.ImEncode(".jpg", p.Rendered, out var jpg, _jpeg);
                o = new JsonObject { ["timestamp"] = stamp.DeepClone(), ["frame_id"] = _frameId, ["format"] = "jpeg", ["data"] = Convert.ToBase64String(jpg) };
                break;
            case 2:
                o = Raw(stamp, w, h, "mono8", w, new ReadOnlySpan<byte>((void*)p.Labels.Data, w * h));
                break;
            case 3:
                o = Raw(stamp, w, h, "32FC1", w * 4, new ReadOnlySpan<byte>((void*)p.Depth.Data, w * h * 4));
                break;
            case 4:
            {
                var k = Intrinsics(p);
                o = new JsonObject
                {
                    ["timestamp"] = stamp.DeepClone(), ["frame_id"] = _frameId, ["width"] = w, ["height"] = h, ["distortion_model"] = k.DistortionModel,
                    ["D"] = new JsonArray(k.DistortionOrZeros.Select(v => (JsonNode)v).ToArray()),
                    ["K"] = new JsonArray(k.K.Select(v => (JsonNode)v).ToArray()),
                    ["R"] = new JsonArray(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
                    ["P"] = new JsonArray(k.P.Select(v => (JsonNode)v).ToArray()),
                };
                break;
            }
            case 5:
                o = PointCloud(p, stamp);
                break;
            case 6:
                o = new JsonObject { ["classes"] = new JsonArray(_labels.Classes.Select((n, i) => (JsonNode)new JsonObject { ["id"] = i, ["name"] = n, ["color"] = $"#{_labels.Palette[i].R:x2}{_labels.Palette[i].G:x2}{_labels.Palette[i].B:x2}" }).ToArray()) };
                break;
            default:
                return null;
        }
        return JsonSerializer.SerializeToUtf8Bytes(o);
    }

    private static CameraIntrinsics Intrinsics(FramePacket p)
    {
        return (p.Frame.Intrinsics ?? CameraIntrinsics.Nyu).ScaledTo(p.Frame.Width, p.Frame.Height);
    }

    private JsonObject Raw(JsonObject stamp, int w, int h, string encoding, int step, ReadOnlySpan<byte> data) => new()
    {
        ["timestamp"] = stamp.DeepClone(), ["frame_id"] = _frameId, ["width"] = w, ["height"] = h, ["encoding"] = encoding, ["step"] = step,
        ["data"] = Convert.ToBase64String(data),
    };

    /// <summary>Every 4th pixel in each direction with valid depth: x, y, z float32, rgba uint8 x4, label uint8 (stride 17).</summary>
    private unsafe JsonObject PointCloud(FramePacket p, JsonObject stamp)
    {
        int w = p.Frame.Width, h = p.Frame.Height;
        var k = Intrinsics(p);
        var d = (float*)p.Depth.Data; var img = (byte*)p.Frame.Image.Data; var lab = (byte*)p.Labels.Data;
        using var ms = new MemoryStream();
        using var bw = new BinaryWriter(ms);
        for (var v = 0; v < h; v += 4)
        for (var u = 0; u < w; u += 4)
        {
            var i = v * w + u;
            var z = d[i];
            if (!(z > 0) || !float.IsFinite(z)) continue;
            var (x, y, _) = k.BackProject(u, v, z);
            bw.Write(x); bw.Write(y); bw.Write(z);
            bw.Write(img[i * 3 + 2]); bw.Write(img[i * 3 + 1]); bw.Write(img[i * 3]); bw.Write((byte)255);
            bw.Write(lab[i]);
        }
        bw.Flush();
        JsonObject F(string name, int offset, int type) => new() { ["name"] = name, ["offset"] = offset, ["type"] = type };
        return new JsonObject
        {
            ["timestamp"] = stamp.DeepClone(), ["frame_id"] = _frameId,
            ["pose"] = new JsonObject { ["position"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["z"] = 0 }, ["orientation"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["z"] = 0, ["w"] = 1 } },
            ["point_stride"] = 17,
            // foxglove.NumericType: UINT8 = 1, FLOAT32 = 7
            ["fields"] = new JsonArray(F("x", 0, 7), F("y", 4, 7), F("z", 8, 7), F("red", 12, 1), F("green", 13, 1), F("blue", 14, 1), F("alpha", 15, 1), F("label", 16, 1)),
            ["data"] = Convert.ToBase64String(ms.ToArray()),
        };
    }

    private static string SchemaFor(string name)
    {
        var time = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["sec"] = new JsonObject { ["type"] = "integer" }, ["nsec"] = new JsonObject { ["type"] = "integer" } } };
        JsonObject Props(params (string, string)[] fields)
        {
            var props = new JsonObject { ["timestamp"] = time.DeepClone(), ["frame_id"] = new JsonObject { ["type"] = "string" } };
            foreach (var (f, t) in fields) props[f] = t == "bytes" ? new JsonObject { ["type"] = "string", ["contentEncoding"] = "base64" } : new JsonObject { ["type"] = t };
            return props;
        }
        var schema = name switch
        {
            "foxglove.CompressedImage" => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = Props(("format", "string"), ("data", "bytes")) },
            "foxglove.RawImage" => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = Props(("width", "integer"), ("height", "integer"), ("encoding", "string"), ("step", "integer"), ("data", "bytes")) },
            "foxglove.CameraCalibration" => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = Props(("width", "integer"), ("height", "integer"), ("distortion_model", "string"), ("D", "array"), ("K", "array"), ("R", "array"), ("P", "array")) },
            "foxglove.PointCloud" => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = Props(("pose", "object"), ("point_stride", "integer"), ("fields", "array"), ("data", "bytes")) },
            _ => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = new JsonObject { ["classes"] = new JsonObject { ["type"] = "array" } } },
        };
        return schema.ToJsonString();
    }

    public ValueTask CompleteAsync()
    {
        foreach (var c in _clients.Keys) c.Outbox.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await CompleteAsync();
        await AccessToken.StopAsync(_app);
    }
}
