using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace RealtimeMtl.Training.Data.Fetch;

/// <summary>
/// Reads the numeric matrices of a MATLAB level-5 .mat file (the format <c>save</c> writes by default before v7.3,
/// as NYUD-v2's <c>splits.mat</c> and <c>classMapping40.mat</c> are): little-endian files, top-level variables
/// stored plain or zlib-compressed (miCOMPRESSED), real numeric arrays of any class, character arrays and cell
/// arrays of character arrays (SUN RGB-D's seg.mat names, its toolbox's split lists) as strings. Structs, objects and
/// sparse arrays are skipped by name, not decoded.
/// </summary>
public static class MatV5Reader
{
    private const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7, MiDouble = 9,
        MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15, MiUtf8 = 16, MiUtf16 = 17;
    private const int MxCell = 1, MxChar = 4;

    /// <summary>
    /// A variable: its name, dimensions (column-major, as MATLAB stores them) and numeric values as doubles; for a
    /// character array its text, and for a cell array the text of each character-array cell (column-major), in
    /// <see cref="Strings"/> (numeric <see cref="Values"/> empty).
    /// </summary>
    public sealed record Variable(string Name, int[] Dims, double[] Values)
    {
        public IReadOnlyList<string>? Strings { get; init; }
    }

    /// <summary>Every numeric top-level variable of <paramref name="path"/>.</summary>
    public static Dictionary<string, Variable> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 128) throw new InvalidDataException($"'{path}' is too short for a MATLAB .mat file");
        var header = Encoding.ASCII.GetString(bytes, 0, 116);
        if (!header.StartsWith("MATLAB 5.0 MAT-file", StringComparison.Ordinal))
            throw new InvalidDataException($"'{path}' is not a MATLAB level-5 .mat file (its header is not 'MATLAB 5.0 MAT-file')");
        if (bytes[126] != (byte)'I' || bytes[127] != (byte)'M')
            throw new InvalidDataException($"'{path}' is a big-endian .mat file; save it again on a little-endian machine");
        var result = new Dictionary<string, Variable>();
        var pos = 128;
        while (pos + 8 <= bytes.Length)
        {
            var (type, size, dataAt, next) = Tag(bytes, pos, path);
            if (type == MiCompressed)
            {
                using var z = new ZLibStream(new MemoryStream(bytes, dataAt, size), CompressionMode.Decompress);
                using var inflated = new MemoryStream();
                z.CopyTo(inflated);
                var inner = inflated.ToArray();
                var (t2, s2, d2, _) = Tag(inner, 0, path);
                if (t2 == MiMatrix && Matrix(inner, d2, s2, path) is { } v) result[v.Name] = v;
            }
            else if (type == MiMatrix && Matrix(bytes, dataAt, size, path) is { } v) result[v.Name] = v;
            pos = next;
        }
        return result;
    }

    /// <summary>A data element's tag: type, byte count, where its data starts and where the next element starts (8-byte aligned).</summary>
    private static (int Type, int Size, int DataAt, int Next) Tag(byte[] b, int pos, string path)
    {
        if (pos + 8 > b.Length) throw new InvalidDataException($"'{path}' ends inside a data element");
        var first = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
        if (first >> 16 != 0)
        {
            // Small data element: type and size packed in 4 bytes, data in the next 4.
            return ((int)(first & 0xFFFF), (int)(first >> 16), pos + 4, pos + 8);
        }
        var size = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(pos + 4));
        if (size < 0 || pos + 8L + size > b.Length) throw new InvalidDataException($"'{path}' has a data element of {size} bytes past its end");
        var type = (int)first;
        var next = type == MiCompressed ? pos + 8 + size : pos + 8 + ((size + 7) & ~7);
        return (type, size, pos + 8, next);
    }

    private static Variable? Matrix(byte[] b, int at, int size, string path)
    {
        var end = at + size;
        // Array flags: class in the low byte of the first word; complex flag 0x0800.
        var (_, _, flagsAt, p) = Tag(b, at, path);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(flagsAt));
        var cls = (int)(flags & 0xFF);
        var complex = (flags & 0x0800) != 0;
        var (dimType, dimSize, dimAt, p2) = Tag(b, p, path);
        if (dimType != MiInt32) throw new InvalidDataException($"'{path}': array dimensions are not int32");
        var dims = new int[dimSize / 4];
        for (var i = 0; i < dims.Length; i++) dims[i] = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(dimAt + 4 * i));
        var (_, nameSize, nameAt, p3) = Tag(b, p2, path);
        var name = Encoding.ASCII.GetString(b, nameAt, nameSize);
        if (cls == MxChar) return new Variable(name, dims, []) { Strings = [p3 >= end ? "" : Text(b, p3, path)] };
        if (cls == MxCell)
        {
            // The cells follow as unnamed miMATRIX elements, column-major; character cells give their text, others "".
            var strings = new List<string>();
            for (var q = p3; q + 8 <= end;)
            {
                var (t, sz, d, next) = Tag(b, q, path);
                if (t != MiMatrix) throw new InvalidDataException($"'{path}': cell array {name} holds a non-matrix element");
                strings.Add(sz == 0 ? "" : Matrix(b, d, sz, path)?.Strings is [var text] ? text : "");
                q = next;
            }
            return new Variable(name, dims, []) { Strings = strings };
        }
        // Classes 6-15 are double, single, int8 ... uint64; others (struct 2, object 3, sparse 5) are skipped.
        if (cls is < 6 or > 15 || complex || p3 >= end) return null;
        var (type, count, dataAt, _) = Tag(b, p3, path);
        var width = type switch
        {
            MiInt8 or MiUInt8 => 1,
            MiInt16 or MiUInt16 => 2,
            MiInt32 or MiUInt32 or MiSingle => 4,
            MiDouble or MiInt64 or MiUInt64 => 8,
            _ => 0
        };
        if (width == 0) throw new InvalidDataException($"'{path}': variable {name} has data of unknown type {type}");
        var n = count / width;
        long expected = 1;
        foreach (var d in dims) expected *= d;
        if (n != expected) throw new InvalidDataException($"'{path}': variable {name} holds {n} values for dimensions {string.Join("x", dims)}");
        var values = new double[n];
        var s = b.AsSpan(dataAt, count);
        for (var i = 0; i < n; i++)
        {
            values[i] = type switch
            {
                MiInt8 => (sbyte)s[i],
                MiUInt8 => s[i],
                MiInt16 => BinaryPrimitives.ReadInt16LittleEndian(s[(2 * i)..]),
                MiUInt16 => BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]),
                MiInt32 => BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]),
                MiUInt32 => BinaryPrimitives.ReadUInt32LittleEndian(s[(4 * i)..]),
                MiSingle => BinaryPrimitives.ReadSingleLittleEndian(s[(4 * i)..]),
                MiDouble => BinaryPrimitives.ReadDoubleLittleEndian(s[(8 * i)..]),
                MiInt64 => BinaryPrimitives.ReadInt64LittleEndian(s[(8 * i)..]),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(s[(8 * i)..]),
            };
        }
        return new Variable(name, dims, values);
    }

    /// <summary>A character array's data: UTF-16 code units (miUINT16, MATLAB's default) or UTF-8 bytes.</summary>
    private static string Text(byte[] b, int at, string path)
    {
        var (type, count, dataAt, _) = Tag(b, at, path);
        return type switch
        {
            MiUInt16 or MiUtf16 => Encoding.Unicode.GetString(b, dataAt, count),
            MiUInt8 or MiUtf8 or MiInt8 => Encoding.UTF8.GetString(b, dataAt, count),
            _ => throw new InvalidDataException($"'{path}': character data of unknown type {type}"),
        };
    }
}
