using System.Buffers.Binary;
using System.Text;

namespace RealtimeMtl.Common.Ros;

/// <summary>
/// Reads one ROS 2 message in CDR, as <see cref="CdrWriter"/> writes it: the 4-byte encapsulation header (CDR_LE or
/// CDR_BE; plain XCDR1), then fields aligned to their own size from after the header. A message that is cut short or
/// claims more than it holds throws <see cref="FormatException"/> naming the field.
/// </summary>
public ref struct CdrReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly bool _bigEndian;
    private int _at;

    public CdrReader(ReadOnlySpan<byte> message)
    {
        if (message.Length < 4) throw new FormatException("a CDR message needs its 4-byte encapsulation header");
        var kind = message[1];
        if (message[0] != 0 || kind > 1) throw new FormatException($"CDR encapsulation 0x{message[0]:x2}{message[1]:x2} is not plain CDR (XCDR1)");
        _bigEndian = kind == 0;
        _data = message[4..];
        _at = 0;
    }

    /// <summary>Bytes read so far, after the header.</summary>
    public readonly int Position => _at;

    public byte UInt8() { Need(1, "uint8"); return _data[_at++]; }
    public bool Bool() => UInt8() != 0;

    public int Int32()
    {
        Align(4); Need(4, "int32");
        var v = _bigEndian ? BinaryPrimitives.ReadInt32BigEndian(_data[_at..]) : BinaryPrimitives.ReadInt32LittleEndian(_data[_at..]);
        _at += 4;
        return v;
    }

    public uint UInt32() => unchecked((uint)Int32());

    public double Float64()
    {
        Align(8); Need(8, "float64");
        var v = _bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(_data[_at..]) : BinaryPrimitives.ReadDoubleLittleEndian(_data[_at..]);
        _at += 8;
        return v;
    }

    public string String()
    {
        var n = (int)UInt32();
        if (n == 0) return "";
        Need(n, "string");
        var s = Encoding.UTF8.GetString(_data.Slice(_at, n - 1)); // the length counts the terminating NUL
        _at += n;
        return s;
    }

    /// <summary>A uint8[] sequence, in place.</summary>
    public ReadOnlySpan<byte> Bytes()
    {
        var n = (int)UInt32();
        Need(n, "uint8[]");
        var s = _data.Slice(_at, n);
        _at += n;
        return s;
    }

    /// <summary>float64[] (a count first) or float64[N] (fixed: <paramref name="fixedLength"/> values, no count).</summary>
    public double[] Float64s(int? fixedLength = null)
    {
        var n = fixedLength ?? (int)UInt32();
        if (n < 0 || n > (_data.Length - _at) / 8 + 1) throw new FormatException($"CDR float64[] of {n} values is longer than the message");
        var v = new double[n];
        for (var i = 0; i < n; i++) v[i] = Float64();
        return v;
    }

    private void Align(int size) => _at += (size - _at % size) % size;

    private readonly void Need(int n, string what)
    {
        if (n < 0 || _at + n > _data.Length) throw new FormatException($"CDR message ends inside a {what} (at byte {_at + 4} of {_data.Length + 4})");
    }
}
