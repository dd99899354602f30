using System.Text;

namespace RealtimeMtl.Inference.Onnx;

/// <summary>Minimal protobuf wire-format reader: walks the fields of one message (the counterpart of <see cref="ProtoWriter"/>).</summary>
public ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    public int Field { get; private set; }
    public int WireType { get; private set; }

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next()
    {
        if (_pos >= _data.Length) return false;
        var tag = ReadVarint();
        Field = (int)(tag >> 3);
        WireType = (int)(tag & 7);
        if (Field == 0) throw new InvalidDataException("not a protobuf message (field 0)");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw new InvalidDataException("truncated protobuf varint");
            var b = _data[_pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("malformed protobuf varint");
    }

    public long Int64() => (long)ReadVarint();

    public float Fixed32Float()
    {
        if (_pos + 4 > _data.Length) throw new InvalidDataException("truncated protobuf fixed32");
        var v = BitConverter.ToSingle(_data.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    public ReadOnlySpan<byte> Bytes()
    {
        var n = (int)ReadVarint();
        if (n < 0 || _pos + n > _data.Length) throw new InvalidDataException("truncated protobuf field");
        var s = _data.Slice(_pos, n);
        _pos += n;
        return s;
    }

    public string String() => Encoding.UTF8.GetString(Bytes());

    /// <summary>A repeated int64 field, packed (wire type 2) or one element (wire type 0).</summary>
    public void Int64s(List<long> into)
    {
        if (WireType == 0) { into.Add(Int64()); return; }
        var inner = new ProtoReader(Bytes());
        while (inner._pos < inner._data.Length) into.Add((long)inner.ReadVarint());
    }

    public void Skip()
    {
        switch (WireType)
        {
            case 0: ReadVarint(); break;
            case 1: _pos += 8; break;
            case 2: Bytes(); break;
            case 5: _pos += 4; break;
            default: throw new InvalidDataException($"unsupported protobuf wire type {WireType}");
        }
        if (_pos > _data.Length) throw new InvalidDataException("truncated protobuf field");
    }
}
