using System.Buffers.Binary;
using System.Text;
using RealtimeMtl.Common.Ros;

namespace RealtimeMtl.Sinks.Mcap;

/// <summary>
/// Writes an MCAP file (mcap.dev/spec, version 0): the magic and a Header (profile "ros2"), Schema and Channel records
/// at the front of the data section, then the messages in Chunks (zstd, lz4 or uncompressed, with the CRC-32 of their
/// records), each followed by its Message Index records. <see cref="Finish"/> adds Data End, the summary (schemas,
/// channels, statistics, chunk indexes), the summary offsets and the Footer, so readers can seek. A chunk is written
/// whole or not at all, so a file cut short by a kill reads (streaming) up to its last complete chunk.
/// A closed chunk is compressed and written by a task of its own, in order, while the next one fills: the caller's
/// <see cref="Write"/> only copies the message. Not thread-safe: callers serialise.
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
    public int Chunks { get { lock (_chunkIndexes) return _chunkIndexes.Count; } }
    public ulong Messages => _messages;

    /// <summary>How chunks are compressed (lz4 by default: rosbag2, Foxglove and the MCAP readers read zstd and lz4).</summary>
    public McapCompression Compression { get; }

    /// <summary>Bytes of messages before and after compression, and the time spent compressing, so far.</summary>
    public (long Uncompressed, long Compressed, TimeSpan Compressing) CompressionFigures
    {
        get { lock (_figures) return (_uncompressed, _compressed, _compressing); }
    }

    private readonly object _figures = new();
    private long _uncompressed, _compressed;
    private TimeSpan _compressing;
    private readonly System.Threading.Channels.Channel<ClosedChunk> _closed =
        System.Threading.Channels.Channel.CreateBounded<ClosedChunk>(new System.Threading.Channels.BoundedChannelOptions(2)
        {
            SingleReader = true,
            SingleWriter = true
        });
    private readonly Task _chunkWriter;
    private Exception? _writeFailure;

    /// <summary>A chunk handed to the writing task: its records and per-channel message index.</summary>
    private sealed record ClosedChunk(byte[] Records, int Length, ulong Start, ulong End, List<(ushort Channel, List<(ulong Time,
        ulong Offset)> Entries)> Index);

    public McapWriter(Stream output, string profile = "ros2", string library = "rtmtl", McapCompression compression = McapCompression.Lz4)
    {
        _out = output;
        Compression = compression;
        _chunkWriter = Task.Run(WriteChunksAsync);
        Put(Magic);
        Record(OpHeader, w => { Str(w, profile); Str(w, library); });
    }

    /// <summary>Declares a ros2msg schema (written at once, so a cut file keeps it); returns its id (1, 2, ...).</summary>
    public ushort AddSchema(RosSchema schema)
    {
        var id = (ushort)(_schemas.Count + 1);
        var body = Body(w =>
        {
            U16(w, id); Str(w, schema.Name); Str(w, "ros2msg"); var data = Encoding.UTF8.GetBytes(schema.Definition); U32(w,
            (uint)data.Length); w.Write(data);
        });
        _schemas.Add(Framed(OpSchema, body));
        Put(_schemas[^1]);
        return id;
    }

    /// <summary>Declares a CDR channel on <paramref name="topic"/>; <paramref name="latched"/> marks it transient-local, as rosbag2 records
    /// /tf_static.</summary>
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

    /// <summary>Closes the open chunk: it is compressed and written, with its message indexes, by the writing task.</summary>
    public void FlushChunk()
    {
        if (_writeFailure is { } failed) throw new IOException($"the MCAP file could not be written: {failed.Message}", failed);
        if (_chunk.Length == 0) return;
        var records = System.Buffers.ArrayPool<byte>.Shared.Rent((int)_chunk.Length);
        _chunk.GetBuffer().AsSpan(0, (int)_chunk.Length).CopyTo(records);
        var chunk = new ClosedChunk(records, (int)_chunk.Length, _chunkStart, _chunkEnd, _chunkIndex.Select(kv => (kv.Key, kv.Value)).ToList());
        // Waits only when two chunks are already queued (a disk slower than the data): back-pressure, nothing lost.
        if (!_closed.Writer.TryWrite(chunk)) _closed.Writer.WriteAsync(chunk).AsTask().GetAwaiter().GetResult();
        _chunk.SetLength(0);
        _chunkIndex.Clear();
        _chunkStart = ulong.MaxValue; _chunkEnd = 0;
    }

    private async Task WriteChunksAsync()
    {
        var compressor = Compression == McapCompression.Zstd ? new ZstdSharp.Compressor(ZstdLevel) : null;
        try
        {
            await foreach (var chunk in _closed.Reader.ReadAllAsync())
            {
                try
                {
                    if (_writeFailure is null) WriteChunk(chunk, compressor);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException) { _writeFailure = e; }
                finally { System.Buffers.ArrayPool<byte>.Shared.Return(chunk.Records); }
            }
        }
        finally { compressor?.Dispose(); }
    }

    /// <summary>zstd level 1: the fastest level (docs/robots.md has its size and cost beside lz4's).</summary>
    public const int ZstdLevel = 1;

    private void WriteChunk(ClosedChunk c, ZstdSharp.Compressor? zstd)
    {
        var records = c.Records.AsSpan(0, c.Length);
        var size = (ulong)records.Length;
        var crc = System.IO.Hashing.Crc32.HashToUInt32(records);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        ReadOnlySpan<byte> stored = Compression switch
        {
            McapCompression.Zstd => zstd!.Wrap(records),
            McapCompression.Lz4 => K4os.Compression.LZ4.Streams.LZ4Frame.Encode(records,
                new System.Buffers.ArrayBufferWriter<byte>(records.Length / 2 + 64),
                K4os.Compression.LZ4.LZ4Level.L00_FAST).WrittenSpan,
            _ => records,
        };
        var name = Compression switch { McapCompression.Zstd => "zstd", McapCompression.Lz4 => "lz4", _ => "" };
        var storedLength = (ulong)stored.Length;
        lock (_figures)
        {
            _uncompressed += records.Length;
            _compressed += stored.Length;
            _compressing += System.Diagnostics.Stopwatch.GetElapsedTime(started);
        }
        var chunkOffset = _position;
        var head = Body(w => { U64(w, c.Start); U64(w, c.End); U64(w, size); U32(w, crc); Str(w, name); U64(w, storedLength); });
        Span<byte> prefix = stackalloc byte[9];
        prefix[0] = OpChunk;
        BinaryPrimitives.WriteUInt64LittleEndian(prefix[1..], (ulong)(head.Length + stored.Length));
        Put(prefix); Put(head); Put(stored);
        var chunkLength = (ulong)(_position - chunkOffset);
        var indexOffsets = new List<(ushort Channel, ulong Offset)>();
        var indexStart = _position;
        foreach (var (channel, entries) in c.Index)
        {
            indexOffsets.Add((channel, (ulong)_position));
            Put(Framed(OpMessageIndex, Body(w =>
            {
                U16(w, channel); U32(w, (uint)(entries.Count * 16));
                foreach (var (t, o) in entries) { U64(w, t); U64(w, o); }
            })));
        }
        var indexLength = (ulong)(_position - indexStart);
        lock (_chunkIndexes)
            _chunkIndexes.Add(Framed(OpChunkIndex, Body(w =>
            {
                U64(w, c.Start); U64(w, c.End); U64(w, (ulong)chunkOffset); U64(w, chunkLength);
                U32(w, (uint)(indexOffsets.Count * 10));
                foreach (var (ch, o) in indexOffsets) { U16(w, ch); U64(w, o); }
                U64(w, indexLength); Str(w, name); U64(w, storedLength); U64(w, size);
            })));
        _out.Flush();
    }

    /// <summary>Closes the last chunk and writes the summary, its offsets and the footer: the file is then indexed.</summary>
    public void Finish()
    {
        FlushChunk();
        // Every chunk written, in order, before the summary (which needs their offsets).
        _closed.Writer.TryComplete();
        _chunkWriter.GetAwaiter().GetResult();
        if (_writeFailure is { } failed) throw new IOException($"the MCAP file could not be written: {failed.Message}", failed);
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
        var crc = System.IO.Hashing.Crc32.HashToUInt32([.. summary.ToArray(), .. footerHead]);
        Put(summary.ToArray());
        Put(footerHead);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc);
        Put(tail);
        Put(Magic);
        _out.Flush();
    }

    public void Dispose()
    {
        _closed.Writer.TryComplete();
        try { _chunkWriter.GetAwaiter().GetResult(); }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        _chunk.Dispose();
    }

    /// <summary>rosbag2's offered_qos_profiles for a channel: reliable, and transient-local (latched) or volatile.</summary>
    private static string Qos(bool latched) =>
        $"- history: 3\n  depth: 0\n  reliability: 1\n  durability: {(latched ? 1 : 2)}\n  deadline:\n    sec: 2147483647\n    nsec: 4294967295\n  " +
            $"lifespan:\n    sec: 2147483647\n    nsec: 4294967295\n  liveliness: 1\n  liveliness_lease_duration:\n    sec: 2147483647\n    nsec: " +
                $"4294967295\n  avoid_ros_namespace_conventions: false\n";

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
