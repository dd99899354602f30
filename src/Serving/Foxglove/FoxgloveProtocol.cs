using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RealtimeMtl.Serving.Foxglove;

/// <summary>
/// The wire format of foxglove.websocket.v1 (the protocol of foxglove_bridge): the server's JSON operations
/// (serverInfo, advertise), the client's (subscribe, unsubscribe), and the binary Message Data frame.
/// </summary>
public static class FoxgloveProtocol
{
    public const string SubProtocol = "foxglove.websocket.v1";

    /// <summary>Opcode of a binary Message Data frame: opcode, subscription id (u32 LE), log time ns (u64 LE), payload.</summary>
    public const byte MessageData = 0x01;
    public const int MessageHeader = 13;

    public static byte[] ServerInfo(string name) => Json(new JsonObject
    {
        ["op"] = "serverInfo", ["name"] = name, ["capabilities"] = new JsonArray(), ["supportedEncodings"] = new JsonArray(),
        ["metadata"] = new JsonObject(), ["sessionId"] = Guid.NewGuid().ToString("N"),
    });

    public static byte[] Advertise(IEnumerable<FoxgloveChannel> channels) => Json(new JsonObject
    {
        ["op"] = "advertise",
        ["channels"] = new JsonArray(channels.Select(c => (JsonNode)new JsonObject
        {
            ["id"] = c.Id, ["topic"] = c.Topic, ["encoding"] = "cdr", ["schemaName"] = c.Schema.Name, ["schema"] = c.Schema.Definition,
            ["schemaEncoding"] = "ros2msg",
        }).ToArray()),
    });

    /// <summary>One Message Data frame for a subscription.</summary>
    public static byte[] Message(uint subscription, long timeNs, ReadOnlySpan<byte> payload)
    {
        var message = new byte[MessageHeader + payload.Length];
        message[0] = MessageData;
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(1), subscription);
        BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(5), (ulong)timeNs);
        payload.CopyTo(message.AsSpan(MessageHeader));
        return message;
    }

    /// <summary>A client operation: subscriptions added (channel id -> subscription id) or subscription ids removed; anything else ignored.</summary>
    public static (IReadOnlyList<(int Channel, uint Subscription)> Subscribe, IReadOnlyList<uint> Unsubscribe) Parse(ReadOnlySpan<byte> json)
    {
        JsonNode? msg;
        try { msg = JsonNode.Parse(json); } catch (JsonException) { return ([], []); }
        var add = new List<(int, uint)>();
        var remove = new List<uint>();
        try
        {
            switch ((string?)msg?["op"])
            {
                case "subscribe":
                    foreach (var s in msg!["subscriptions"]?.AsArray() ?? [])
                        if (s?["id"] is { } id && s["channelId"] is { } ch) add.Add(((int)ch, (uint)id));
                    break;
                case "unsubscribe":
                    foreach (var id in msg!["subscriptionIds"]?.AsArray() ?? [])
                        if (id is not null) remove.Add((uint)id);
                    break;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException) { return ([], []); }
        return (add, remove);
    }

    public static byte[] Json(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node);
}
