namespace RealtimeMtl.Training.Onnx;

/// <summary>ONNX tensor element types used here (onnx.TensorProto.DataType).</summary>
public enum OnnxType { Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Float16 = 10 }

/// <summary>One attribute of a node.</summary>
public sealed record OnnxAttribute(string Name, object Value)
{
    public static OnnxAttribute Of(string name, long value) => new(name, value);
    public static OnnxAttribute Of(string name, float value) => new(name, value);
    public static OnnxAttribute Of(string name, string value) => new(name, value);
    public static OnnxAttribute Of(string name, long[] value) => new(name, value);
}

/// <summary>
/// Builds an ONNX graph node by node and serialises it as a ModelProto (onnx.proto3 field numbers).
/// Values get unique names; initializers hold weights as raw little-endian data.
/// </summary>
public sealed class OnnxGraph
{
    private readonly List<(string Op, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes, string Name)> _nodes = [];
    private readonly List<(string Name, OnnxType Type, long[] Dims, byte[] Raw)> _initializers = [];
    private readonly List<(string Name, OnnxType Type, object[] Dims)> _inputs = [];
    private readonly List<(string Name, OnnxType Type, object[] Dims)> _outputs = [];
    private readonly Dictionary<string, int> _counters = [];

    public Dictionary<string, string> Metadata { get; } = [];
    public int NodeCount => _nodes.Count;

    public string Unique(string prefix)
    {
        _counters.TryGetValue(prefix, out var n);
        _counters[prefix] = n + 1;
        return n == 0 ? prefix : $"{prefix}_{n}";
    }

    /// <summary>Declares a graph input. A dim is a long (fixed) or a string (symbolic).</summary>
    public string Input(string name, OnnxType type, params object[] dims)
    {
        _inputs.Add((name, type, dims));
        return name;
    }

    public void Output(string name, OnnxType type, params object[] dims) => _outputs.Add((name, type, dims));

    public string Initializer(string name, float[] data, params long[] dims)
    {
        var raw = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        return AddInitializer(name, OnnxType.Float, dims, raw);
    }

    public string Initializer(string name, long[] data, params long[] dims)
    {
        var raw = new byte[data.Length * 8];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        return AddInitializer(name, OnnxType.Int64, dims, raw);
    }

    public string AddInitializer(string name, OnnxType type, long[] dims, byte[] raw)
    {
        name = Unique(name);
        _initializers.Add((name, type, dims, raw));
        return name;
    }

    /// <summary>Adds a node with one output, named after <paramref name="name"/> (or the op), and returns that output.</summary>
    public string Node(string op, string[] inputs, string? name = null, params OnnxAttribute[] attributes) =>
        NodeMulti(op, inputs, 1, name, attributes)[0];

    public string[] NodeMulti(string op, string[] inputs, int outputs, string? name = null, params OnnxAttribute[] attributes)
    {
        var nodeName = Unique(name ?? op);
        var outs = Enumerable.Range(0, outputs).Select(i => outputs == 1 ? nodeName : $"{nodeName}:{i}").ToArray();
        _nodes.Add((op, inputs, outs, attributes, nodeName));
        return outs;
    }

    /// <summary>Renames the value produced last under <paramref name="value"/> to a graph output name.</summary>
    public string Identity(string value, string outputName)
    {
        _nodes.Add(("Identity", [value], [outputName], [], Unique("Identity_" + outputName)));
        return outputName;
    }

    public byte[] ToModel(long irVersion = 8, long opset = 17, string producer = "rtmtl-train", string producerVersion = "1.0")
    {
        var w = new ProtoWriter();
        w.Varint(1, irVersion);
        w.String(2, producer);
        w.String(3, producerVersion);
        w.Message(7, WriteGraph);
        w.Message(8, o => o.String(1, "").Varint(2, opset));
        foreach (var (k, v) in Metadata) w.Message(14, e => e.String(1, k).String(2, v));
        return w.ToArray();
    }

    private void WriteGraph(ProtoWriter g)
    {
        foreach (var (op, inputs, outputs, attributes, name) in _nodes)
        {
            g.Message(1, n =>
            {
                foreach (var i in inputs) n.String(1, i);
                foreach (var o in outputs) n.String(2, o);
                n.String(3, name);
                n.String(4, op);
                foreach (var a in attributes) n.Message(5, at => WriteAttribute(at, a));
            });
        }
        g.String(2, "rtmtl");
        foreach (var (name, type, dims, raw) in _initializers)
            g.Message(5, t => t.PackedVarints(1, dims).Varint(2, (int)type).String(8, name).Bytes(9, raw));
        foreach (var (name, type, dims) in _inputs) g.Message(11, v => WriteValueInfo(v, name, type, dims));
        foreach (var (name, type, dims) in _outputs) g.Message(12, v => WriteValueInfo(v, name, type, dims));
    }

    private static void WriteValueInfo(ProtoWriter v, string name, OnnxType type, object[] dims)
    {
        v.String(1, name);
        v.Message(2, tp => tp.Message(1, tt =>
        {
            tt.Varint(1, (int)type);
            tt.Message(2, shape =>
            {
                foreach (var d in dims)
                    shape.Message(1, dim =>
                    {
                        if (d is string s) dim.String(2, s);
                        else dim.Varint(1, Convert.ToInt64(d));
                    });
            });
        }));
    }

    private static void WriteAttribute(ProtoWriter a, OnnxAttribute attribute)
    {
        a.String(1, attribute.Name);
        switch (attribute.Value)
        {
            case float f: a.Float(2, f).Varint(20, 1); break;
            case long i: a.Varint(3, i).Varint(20, 2); break;
            case int i: a.Varint(3, i).Varint(20, 2); break;
            case string s: a.String(4, s).Varint(20, 3); break;
            case long[] ints: a.PackedVarints(8, ints).Varint(20, 7); break;
            default: throw new ArgumentException($"unsupported attribute type {attribute.Value.GetType()}");
        }
    }
}
