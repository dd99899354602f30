using System.Buffers.Binary;
using System.Text;

namespace RealtimeMtl.Common.Ros;

/// <summary>
/// Writes one ROS 2 message in CDR (XCDR1, little endian): the 4-byte encapsulation header (00 01 00 00), then each
/// field aligned to its own size, counted from after the header. Strings are a uint32 length with the terminating NUL,
/// sequences a uint32 count, fixed arrays their elements only. This is what rmw (Fast DDS, Cyclone) puts on the wire
/// and what rosbag2 stores in MCAP with message encoding "cdr".
/// </summary>
public sealed class CdrWriter
{
    private byte[] _buffer;
    private int _length;

    public CdrWriter(int capacity = 256)
    {
        _buffer = new byte[Math.Max(capacity, 16)];
        _buffer[1] = 1; // CDR_LE
        _length = 4;
    }

    /// <summary>Starts a new message in the same buffer (a publisher reuses one writer per topic: no allocation per message).</summary>
    public CdrWriter Reset()
    {
        _length = 4;
        return this;
    }

    /// <summary>The message as written so far, encapsulation header included.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);
    public byte[] ToArray() => Written.ToArray();

    public void UInt8(byte v) { Ensure(1); _buffer[_length++] = v; }
    public void Bool(bool v) => UInt8(v ? (byte)1 : (byte)0);
    public void Int32(int v) { Align(4); Ensure(4); BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), v); _length += 4; }
    public void UInt32(uint v) { Align(4); Ensure(4); BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), v); _length += 4; }
    public void Float64(double v) { Align(8); Ensure(8); BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_length), v); _length += 8; }

    public void String(string v)
    {
        var n = Encoding.UTF8.GetByteCount(v);
        UInt32((uint)n + 1);
        Ensure(n + 1);
        Encoding.UTF8.GetBytes(v, _buffer.AsSpan(_length));
        _length += n;
        _buffer[_length++] = 0;
    }

    /// <summary>A uint8[] sequence.</summary>
    public void Bytes(ReadOnlySpan<byte> data) => data.CopyTo(Sequence(data.Length));

    /// <summary>A uint8[] sequence of <paramref name="count"/> bytes whose content the caller writes into the span returned.</summary>
    public Span<byte> Sequence(int count)
    {
        UInt32((uint)count);
        Ensure(count);
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    /// <summary>float64[] (a count first) or float64[N] (fixed: no count).</summary>
    public void Float64s(ReadOnlySpan<double> values, bool fixedLength)
    {
        if (!fixedLength) UInt32((uint)values.Length);
        foreach (var v in values) Float64(v);
    }

    private void Align(int size)
    {
        var pad = (size - (_length - 4) % size) % size;
        Ensure(pad);
        _buffer.AsSpan(_length, pad).Clear();
        _length += pad;
    }

    private void Ensure(int more)
    {
        if (_length + more <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
    }
}
