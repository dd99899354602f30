using System.Buffers.Binary;
using System.Text;
using RealtimeMtl.Common.Ros;

namespace RealtimeMtl.Sinks.Mcap;

/// <summary>
/// Writes an MCAP file (mcap.dev/spec, version 0): the magic and a Header (profile "ros2"), Schema and Channel records
/// at the front of the data section, then the messages in Chunks (uncompressed, with their CRC-32), each followed by
/// its Message Index records. <see cref="Finish"/> adds Data End, the summary (schemas, channels, statistics, chunk
/// indexes), the summary offsets and the Footer, so readers can seek. A chunk is written whole or not at all, so a
/// file cut short by a kill reads (streaming) up to its last complete chunk. Not thread-safe: callers serialise.
/// </summary>
public sealed class McapWriter : IDisposable
{
    private static readonly byte[] Magic = [0x89, (byte)'M', (byte)'C', (byte)'A', (byte)'P', (byte)'0', (byte)'\r', (byte)'\n'];
    private const byte OpHeader = 0x01, OpFooter = 0x02, OpSchema = 0x03, OpChannel = 0x04, OpMessage = 0x05, OpChunk = 0x06, OpMessageIndex = 0x07,
        OpChunkIndex = 0x08, OpStatistics = 0x0B, OpSummaryOffset = 0x0E, OpDataEnd = 0x0F;

    private readonly Stream _out;
    private long _position;
    private readonly List<byte[]> _schemas = [], _channels = [];
    private readonly List<byte[]> _chunkIndexes = [];
    private readonly Dictionary<ushort, ulong> _counts = [];
    private readonly Dictionary<ushort, uint> _sequences = [];
    private ulong _messages;
    private ulong _start = ulong.MaxValue, _end;

    // The open chunk: its records, and per channel (log time, offset in the records) for its message index.
    private readonly MemoryStream _chunk = new();
    private readonly SortedDictionary<ushort, List<(ulong Time, ulong Offset)>> _chunkIndex = [];
    private ulong _chunkStart = ulong.MaxValue, _chunkEnd;

    /// <summary>A chunk is closed once its records reach this many bytes (or when <see cref="FlushChunk"/> is called).</summary>
    public int ChunkBytes { get; init; } = 4 << 20;
    public int Chunks => _chunkIndexes.Count;
    public ulong Messages => _messages;

    public McapWriter(Stream output, string profile = "ros2", string library = "rtmtl")
    {
        _out = output;
        Put(Magic);
        Record(OpHeader, w => { Str(w, profile); Str(w, library); });
    }

    /// <summary>Declares a ros2msg schema (written at once, so a cut file keeps it); returns its id (1, 2, ...).</summary>
    public ushort AddSchema(RosSchema schema)
    {
        var id = (ushort)(_schemas.Count + 1);
        var body = Body(w => { U16(w, id); Str(w, schema.Name); Str(w, "ros2msg"); var data = Encoding.UTF8.GetBytes(schema.Definition); U32(w, (uint)data.Length); w.Write(data); });
        _schemas.Add(Framed(OpSchema, body));
        Put(_schemas[^1]);
        return id;
    }

    /// <summary>Declares a CDR channel on <paramref name="topic"/>; <paramref name="latched"/> marks it transient-local, as rosbag2 records /tf_static.</summary>
    public ushort AddChannel(ushort schemaId, string topic, bool latched = false)
    {
        var id = (ushort)(_channels.Count + 1);
        var metadata = new Dictionary<string, string> { ["offered_qos_profiles"] = Qos(latched) };
        var body = Body(w =>
        {
            U16(w, id); U16(w, schemaId); Str(w, topic); Str(w, "cdr");
            var map = Body(m => { foreach (var (k, v) in metadata) { Str(m, k); Str(m, v); } });
            U32(w, (uint)map.Length); w.Write(map);
        });
        _channels.Add(Framed(OpChannel, body));
        Put(_channels[^1]);
        _counts[id] = 0;
        return id;
    }

    /// <summary>Adds a message to the open chunk (log and publish time: <paramref name="timeNs"/>, Unix ns).</summary>
    public void Write(ushort channel, long timeNs, ReadOnlySpan<byte> data)
    {
        var t = (ulong)Math.Max(0, timeNs);
        var seq = _sequences.GetValueOrDefault(channel);
        _sequences[channel] = seq + 1;
        if (!_chunkIndex.TryGetValue(channel, out var index)) _chunkIndex[channel] = index = [];
        index.Add((t, (ulong)_chunk.Length));
        Span<byte> head = stackalloc byte[1 + 8 + 2 + 4 + 8 + 8];
        head[0] = OpMessage;
        BinaryPrimitives.WriteUInt64LittleEndian(head[1..], (ulong)(2 + 4 + 8 + 8 + data.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(head[9..], channel);
        BinaryPrimitives.WriteUInt32LittleEndian(head[11..], seq);
        BinaryPrimitives.WriteUInt64LittleEndian(head[15..], t);
        BinaryPrimitives.WriteUInt64LittleEndian(head[23..], t);
        _chunk.Write(head);
        _chunk.Write(data);
        _chunkStart = Math.Min(_chunkStart, t); _chunkEnd = Math.Max(_chunkEnd, t);
        _start = Math.Min(_start, t); _end = Math.Max(_end, t);
        _counts[channel] = _counts.GetValueOrDefault(channel) + 1;
        _messages++;
        if (_chunk.Length >= ChunkBytes) FlushChunk();
    }

    /// <summary>Writes the open chunk and its message indexes, and pushes them to the file.</summary>
    public void FlushChunk()
    {
        if (_chunk.Length == 0) return;
        var records = _chunk.GetBuffer().AsSpan(0, (int)_chunk.Length);
        var size = (ulong)records.Length;
        var crc = Crc32.Of(records);
        var chunkOffset = _position;
        var head = Body(w => { U64(w, _chunkStart); U64(w, _chunkEnd); U64(w, size); U32(w, crc); Str(w, ""); U64(w, size); });
        Span<byte> prefix = stackalloc byte[9];
        prefix[0] = OpChunk;
        BinaryPrimitives.WriteUInt64LittleEndian(prefix[1..], (ulong)(head.Length + records.Length));
        Put(prefix); Put(head); Put(records);
        var chunkLength = (ulong)(_position - chunkOffset);
        var indexOffsets = new List<(ushort Channel, ulong Offset)>();
        var indexStart = _position;
        foreach (var (channel, entries) in _chunkIndex)
        {
            indexOffsets.Add((channel, (ulong)_position));
            Put(Framed(OpMessageIndex, Body(w =>
            {
                U16(w, channel); U32(w, (uint)(entries.Count * 16));
                foreach (var (t, o) in entries) { U64(w, t); U64(w, o); }
            })));
        }
        var indexLength = (ulong)(_position - indexStart);
        _chunkIndexes.Add(Framed(OpChunkIndex, Body(w =>
        {
            U64(w, _chunkStart); U64(w, _chunkEnd); U64(w, (ulong)chunkOffset); U64(w, chunkLength);
            U32(w, (uint)(indexOffsets.Count * 10));
            foreach (var (c, o) in indexOffsets) { U16(w, c); U64(w, o); }
            U64(w, indexLength); Str(w, ""); U64(w, size); U64(w, size);
        })));
        _chunk.SetLength(0);
        _chunkIndex.Clear();
        _chunkStart = ulong.MaxValue; _chunkEnd = 0;
        _out.Flush();
    }

    /// <summary>Closes the last chunk and writes the summary, its offsets and the footer: the file is then indexed.</summary>
    public void Finish()
    {
        FlushChunk();
        Record(OpDataEnd, w => U32(w, 0)); // data section CRC: 0, not computed
        var summaryStart = (ulong)_position;
        var summary = new MemoryStream();
        var groups = new List<(byte Op, ulong Start, ulong Length)>();
        void Group(byte op, IEnumerable<byte[]> records)
        {
            var start = (ulong)(_position + summary.Length);
            var any = false;
            foreach (var r in records) { summary.Write(r); any = true; }
            if (any) groups.Add((op, start, (ulong)(_position + summary.Length) - start));
        }
        Group(OpSchema, _schemas);
        Group(OpChannel, _channels);
        Group(OpStatistics, [Framed(OpStatistics, Body(w =>
        {
            U64(w, _messages); U16(w, (ushort)_schemas.Count); U32(w, (uint)_channels.Count); U32(w, 0); U32(w, 0); U32(w, (uint)_chunkIndexes.Count);
            U64(w, _messages == 0 ? 0 : _start); U64(w, _end);
            U32(w, (uint)(_counts.Count * 10));
            foreach (var (c, n) in _counts.OrderBy(kv => kv.Key)) { U16(w, c); U64(w, n); }
        }))]);
        Group(OpChunkIndex, _chunkIndexes);
        var summaryOffsetStart = (ulong)(_position + summary.Length);
        foreach (var (op, start, length) in groups)
            summary.Write(Framed(OpSummaryOffset, Body(w => { w.Write(op); U64(w, start); U64(w, length); })));
        var footerHead = Body(w => { w.Write(OpFooter); U64(w, 8 + 8 + 4); U64(w, summaryStart); U64(w, summaryOffsetStart); });
        var crc = Crc32.Of([.. summary.ToArray(), .. footerHead]);
        Put(summary.ToArray());
        Put(footerHead);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc);
        Put(tail);
        Put(Magic);
        _out.Flush();
    }

    public void Dispose() => _chunk.Dispose();

    /// <summary>rosbag2's offered_qos_profiles for a channel: reliable, and transient-local (latched) or volatile.</summary>
    private static string Qos(bool latched) =>
        $"- history: 3\n  depth: 0\n  reliability: 1\n  durability: {(latched ? 1 : 2)}\n  deadline:\n    sec: 2147483647\n    nsec: 4294967295\n  lifespan:\n    sec: 2147483647\n    nsec: 4294967295\n  liveliness: 1\n  liveliness_lease_duration:\n    sec: 2147483647\n    nsec: 4294967295\n  avoid_ros_namespace_conventions: false\n";

    private void Put(ReadOnlySpan<byte> bytes) { _out.Write(bytes); _position += bytes.Length; }
    private void Record(byte op, Action<BinaryWriter> write) => Put(Framed(op, Body(write)));

    private static byte[] Framed(byte op, byte[] body)
    {
        var r = new byte[9 + body.Length];
        r[0] = op;
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(1), (ulong)body.Length);
        body.CopyTo(r, 9);
        return r;
    }

    private static byte[] Body(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) write(w);
        return ms.ToArray();
    }

    // BinaryWriter writes little endian, as MCAP wants.
    private static void U16(BinaryWriter w, ushort v) => w.Write(v);
    private static void U32(BinaryWriter w, uint v) => w.Write(v);
    private static void U64(BinaryWriter w, ulong v) => w.Write(v);
    private static void Str(BinaryWriter w, string s) { var b = Encoding.UTF8.GetBytes(s); w.Write((uint)b.Length); w.Write(b); }
}

/// <summary>CRC-32 (IEEE 802.3, the zlib polynomial), as MCAP checks chunks and the summary with.</summary>
public static class Crc32
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static uint Of(ReadOnlySpan<byte> data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
