namespace RealtimeMtl.Inference.Onnx;

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

/// <summary>One node of a graph.</summary>
public sealed record OnnxNode(string Op, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes, string Name)
{
    public T? Attribute<T>(string name) => Attributes.FirstOrDefault(a => a.Name == name)?.Value is T v ? v : default;
}

/// <summary>One initializer: raw little-endian data of <see cref="Type"/>.</summary>
public sealed record OnnxInitializer(string Name, OnnxType Type, long[] Dims, byte[] Raw)
{
    public float[] Floats()
    {
        if (Type != OnnxType.Float) throw new InvalidOperationException($"initializer {Name} is {Type}, not float");
        var f = new float[Raw.Length / 4];
        Buffer.BlockCopy(Raw, 0, f, 0, Raw.Length);
        return f;
    }
}

/// <summary>
/// Builds an ONNX graph node by node and serialises it as a ModelProto (onnx.proto3 field numbers); also reads back
/// what it writes (<see cref="Parse"/>), so an exported model can be rewritten (FP16, INT8 QDQ).
/// Values get unique names; initializers hold weights as raw little-endian data.
/// </summary>
public sealed class OnnxGraph
{
    private readonly List<OnnxNode> _nodes = [];
    private readonly List<OnnxInitializer> _initializers = [];
    private readonly List<(string Name, OnnxType Type, object[]? Dims)> _inputs = [];
    private readonly List<(string Name, OnnxType Type, object[]? Dims)> _outputs = [];
    private readonly Dictionary<string, int> _counters = [];
    private readonly HashSet<string> _taken = [];

    public Dictionary<string, string> Metadata { get; } = [];
    public long IrVersion { get; set; } = 8;
    public long Opset { get; set; } = 17;

    /// <summary>The nodes in topological order; rewriting passes replace the list's contents.</summary>
    public List<OnnxNode> Nodes => _nodes;
    public List<OnnxInitializer> Initializers => _initializers;
    public IReadOnlyList<(string Name, OnnxType Type, object[]? Dims)> Outputs => _outputs;
    public IReadOnlyList<(string Name, OnnxType Type, object[]? Dims)> Inputs => _inputs;

    /// <summary>For each value, the nodes that read it (in graph order).</summary>
    public Dictionary<string, List<OnnxNode>> Consumers()
    {
        var map = new Dictionary<string, List<OnnxNode>>();
        foreach (var n in _nodes)
            foreach (var i in n.Inputs)
                (map.TryGetValue(i, out var l) ? l : map[i] = []).Add(n);
        return map;
    }

    public string Unique(string prefix)
    {
        _counters.TryGetValue(prefix, out var n);
        string name;
        do { name = n == 0 ? prefix : $"{prefix}_{n}"; n++; } while (_taken.Contains(name));
        _counters[prefix] = n;
        _taken.Add(name);
        return name;
    }

    /// <summary>Declares a graph input. A dim is a long (fixed) or a string (symbolic).</summary>
    public string Input(string name, OnnxType type, params object[] dims)
    {
        _inputs.Add((name, type, dims));
        _taken.Add(name);
        return name;
    }

    /// <summary>Declares a graph output; with no dims, the shape is left for the runtime to infer.</summary>
    public void Output(string name, OnnxType type, params object[]? dims) => _outputs.Add((name, type, dims is { Length: > 0 } ? dims : null));

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
        _initializers.Add(new OnnxInitializer(name, type, dims, raw));
        return name;
    }

    /// <summary>Adds a node with one output, named after <paramref name="name"/> (or the op), and returns that output.</summary>
    public string Node(string op, string[] inputs, string? name = null, params OnnxAttribute[] attributes) =>
        NodeMulti(op, inputs, 1, name, attributes)[0];

    public string[] NodeMulti(string op, string[] inputs, int outputs, string? name = null, params OnnxAttribute[] attributes)
    {
        var node = MakeNode(op, inputs, outputs, name, attributes);
        _nodes.Add(node);
        return node.Outputs;
    }

    /// <summary>A node with fresh output names that is not yet in the graph (rewriting passes place it themselves).</summary>
    public OnnxNode MakeNode(string op, string[] inputs, int outputs = 1, string? name = null, params OnnxAttribute[] attributes)
    {
        var nodeName = Unique(name ?? op);
        var outs = Enumerable.Range(0, outputs).Select(i => outputs == 1 ? nodeName : $"{nodeName}:{i}").ToArray();
        foreach (var o in outs) _taken.Add(o);
        return new OnnxNode(op, inputs, outs, attributes, nodeName);
    }

    /// <summary>Renames the value produced last under <paramref name="value"/> to a graph output name.</summary>
    public string Identity(string value, string outputName)
    {
        _nodes.Add(new OnnxNode("Identity", [value], [outputName], [], Unique("Identity_" + outputName)));
        _taken.Add(outputName);
        return outputName;
    }

    public byte[] ToModel(string producer = "rtmtl-train", string producerVersion = "1.0")
    {
        var w = new ProtoWriter();
        w.Varint(1, IrVersion);
        w.String(2, producer);
        w.String(3, producerVersion);
        w.Message(7, WriteGraph);
        w.Message(8, o => o.String(1, "").Varint(2, Opset));
        foreach (var (k, v) in Metadata) w.Message(14, e => e.String(1, k).String(2, v));
        return w.ToArray();
    }

    private void WriteGraph(ProtoWriter g)
    {
        foreach (var node in _nodes)
        {
            g.Message(1, n =>
            {
                foreach (var i in node.Inputs) n.String(1, i);
                foreach (var o in node.Outputs) n.String(2, o);
                n.String(3, node.Name);
                n.String(4, node.Op);
                foreach (var a in node.Attributes) n.Message(5, at => WriteAttribute(at, a));
            });
        }
        g.String(2, "rtmtl");
        foreach (var t in _initializers)
            g.Message(5, m => m.PackedVarints(1, t.Dims).Varint(2, (int)t.Type).String(8, t.Name).Bytes(9, t.Raw));
        foreach (var (name, type, dims) in _inputs) g.Message(11, v => WriteValueInfo(v, name, type, dims));
        foreach (var (name, type, dims) in _outputs) g.Message(12, v => WriteValueInfo(v, name, type, dims));
    }

    private static void WriteValueInfo(ProtoWriter v, string name, OnnxType type, object[]? dims)
    {
        v.String(1, name);
        v.Message(2, tp => tp.Message(1, tt =>
        {
            tt.Varint(1, (int)type);
            if (dims is null) return;
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
            case float[] floats: a.PackedFloats(7, floats).Varint(20, 6); break;
            default: throw new ArgumentException($"unsupported attribute type {attribute.Value.GetType()}");
        }
    }

    /// <summary>
    /// Reads a ModelProto of the kind <see cref="ToModel"/> writes (tensor data as raw_data; attributes float, int,
    /// string, ints). Anything else is a clear <see cref="InvalidDataException"/>.
    /// </summary>
    public static OnnxGraph Parse(byte[] model)
    {
        var g = new OnnxGraph();
        var r = new ProtoReader(model);
        var sawGraph = false;
        while (r.Next())
        {
            switch (r.Field)
            {
                case 1: g.IrVersion = r.Int64(); break;
                case 7: ReadGraph(g, r.Bytes()); sawGraph = true; break;
                case 8:
                {
                    var o = new ProtoReader(r.Bytes());
                    string domain = ""; long version = 0;
                    while (o.Next())
                    {
                        if (o.Field == 1) domain = o.String();
                        else if (o.Field == 2) version = o.Int64();
                        else o.Skip();
                    }
                    if (domain.Length == 0) g.Opset = version;
                    break;
                }
                case 14:
                {
                    var e = new ProtoReader(r.Bytes());
                    string k = "", v = "";
                    while (e.Next())
                    {
                        if (e.Field == 1) k = e.String();
                        else if (e.Field == 2) v = e.String();
                        else e.Skip();
                    }
                    g.Metadata[k] = v;
                    break;
                }
                default: r.Skip(); break;
            }
        }
        if (!sawGraph) throw new InvalidDataException("not an ONNX model (no graph)");
        return g;
    }

    private static void ReadGraph(OnnxGraph g, ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        while (r.Next())
        {
            switch (r.Field)
            {
                case 1:
                {
                    var n = new ProtoReader(r.Bytes());
                    List<string> inputs = [], outputs = [];
                    List<OnnxAttribute> attributes = [];
                    string name = "", op = "";
                    while (n.Next())
                    {
                        switch (n.Field)
                        {
                            case 1: inputs.Add(n.String()); break;
                            case 2: outputs.Add(n.String()); break;
                            case 3: name = n.String(); break;
                            case 4: op = n.String(); break;
                            case 5: attributes.Add(ReadAttribute(n.Bytes())); break;
                            case 7: if (n.String().Length > 0) throw new InvalidDataException("custom-domain nodes are not supported"); break;
                            default: n.Skip(); break;
                        }
                    }
                    if (op == "Constant" && outputs.Count == 1 && attributes is [{ Name: "value", Value: OnnxInitializer constant }])
                    {
                        // A Constant node is an initializer by another name: read it as one.
                        g._initializers.Add(constant with { Name = outputs[0] });
                        g._taken.Add(outputs[0]);
                        break;
                    }
                    g._nodes.Add(new OnnxNode(op, inputs.ToArray(), outputs.ToArray(), attributes.ToArray(), name));
                    g._taken.Add(name);
                    foreach (var o in outputs) g._taken.Add(o);
                    break;
                }
                case 5:
                {
                    var tensor = ReadTensor(r.Bytes());
                    g._initializers.Add(tensor);
                    var name = tensor.Name;
                    g._taken.Add(name);
                    break;
                }
                case 11: g._inputs.Add(ReadValueInfo(r.Bytes())); break;
                case 12: g._outputs.Add(ReadValueInfo(r.Bytes())); break;
                default: r.Skip(); break;
            }
        }
        foreach (var i in g._inputs) g._taken.Add(i.Name);
    }

    /// <summary>A TensorProto: raw_data, or float_data (other exporters, e.g. CNTK) packed or one fixed32 per element.</summary>
    private static OnnxInitializer ReadTensor(ReadOnlySpan<byte> data)
    {
        var t = new ProtoReader(data);
        List<long> dims = [];
        var type = OnnxType.Float;
        string name = "";
        byte[]? raw = null;
        List<byte>? values = null;
        List<long> int64s = [];
        while (t.Next())
        {
            switch (t.Field)
            {
                case 1: t.Int64s(dims); break;
                case 2: type = (OnnxType)t.Int64(); break;
                case 8: name = t.String(); break;
                case 9: raw = t.Bytes().ToArray(); break;
                case 4 when t.WireType == 2: (values ??= []).AddRange(t.Bytes().ToArray()); break;
                case 4 when t.WireType == 5: (values ??= []).AddRange(BitConverter.GetBytes(t.Fixed32Float())); break;
                case 7: t.Int64s(int64s); break; // int64_data
                case 12: t.Skip(); break; // doc_string
                default: throw new InvalidDataException($"tensor field {t.Field} is not supported (raw_data, float_data, int64_data)");
            }
        }
        if (raw is null && values is null && int64s.Count > 0)
        {
            raw = new byte[int64s.Count * 8];
            Buffer.BlockCopy(int64s.ToArray(), 0, raw, 0, raw.Length);
        }
        return new OnnxInitializer(name, type, dims.ToArray(), raw ?? values?.ToArray() ?? []);
    }

    private static OnnxAttribute ReadAttribute(ReadOnlySpan<byte> data)
    {
        var a = new ProtoReader(data);
        string name = "";
        object? value = null;
        List<long> ints = [];
        List<float> floats = [];
        long type = 0;
        while (a.Next())
        {
            switch (a.Field)
            {
                case 1: name = a.String(); break;
                case 2: value = a.Fixed32Float(); break;
                case 3: value = a.Int64(); break;
                case 4: value = a.String(); break;
                case 8: a.Int64s(ints); break;
                case 5: value = ReadTensor(a.Bytes()); break; // a tensor (Constant nodes)
                case 7:
                {
                    // floats: packed, or one fixed32 each
                    if (a.WireType == 5) floats.Add(a.Fixed32Float());
                    else { var inner = a.Bytes(); for (var i = 0; i + 4 <= inner.Length; i += 4) floats.Add(BitConverter.ToSingle(inner.Slice(i, 4))); }
                    break;
                }
                case 13: a.Skip(); break; // doc_string
                case 20: type = a.Int64(); break;
                default: throw new InvalidDataException($"attribute field {a.Field} is not supported");
            }
        }
        if (type == 7) value = ints.ToArray();
        if (type == 6) value = floats.ToArray();
        return new OnnxAttribute(name, value ?? throw new InvalidDataException($"attribute '{name}' has no value"));
    }

    private static (string, OnnxType, object[]?) ReadValueInfo(ReadOnlySpan<byte> data)
    {
        var v = new ProtoReader(data);
        string name = "";
        var type = OnnxType.Float;
        List<object>? dims = null;
        while (v.Next())
        {
            if (v.Field == 1) { name = v.String(); continue; }
            if (v.Field != 2) { v.Skip(); continue; }
            var tp = new ProtoReader(v.Bytes());
            while (tp.Next())
            {
                if (tp.Field != 1) { tp.Skip(); continue; }
                var tt = new ProtoReader(tp.Bytes());
                while (tt.Next())
                {
                    if (tt.Field == 1) type = (OnnxType)tt.Int64();
                    else if (tt.Field == 2)
                    {
                        dims = [];
                        var shape = new ProtoReader(tt.Bytes());
                        while (shape.Next())
                        {
                            if (shape.Field != 1) { shape.Skip(); continue; }
                            var dim = new ProtoReader(shape.Bytes());
                            object d = "?";
                            while (dim.Next())
                            {
                                if (dim.Field == 1) d = dim.Int64();
                                else if (dim.Field == 2) d = dim.String();
                                else dim.Skip();
                            }
                            dims.Add(d);
                        }
                    }
                    else tt.Skip();
                }
            }
        }
        return (name, type, dims?.ToArray());
    }
}
