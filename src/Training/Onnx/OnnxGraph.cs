using Google.Protobuf;
using Onnx;

namespace RealtimeMtl.Training.Onnx;

/// <summary>ONNX tensor element types used here (onnx.TensorProto.DataType).</summary>
public enum OnnxType { Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Float16 = 10 }

/// <summary>
/// One attribute of a node: a float, long, string, long[] or float[], a tensor (<see cref="OnnxInitializer"/>), or,
/// for every other kind (subgraphs of If and Loop, lists of strings, tensors or graphs), the
/// <see cref="AttributeProto"/> as read, written back unchanged.
/// </summary>
public sealed record OnnxAttribute(string Name, object Value)
{
    public static OnnxAttribute Of(string name, long value) => new(name, value);
    public static OnnxAttribute Of(string name, float value) => new(name, value);
    public static OnnxAttribute Of(string name, string value) => new(name, value);
    public static OnnxAttribute Of(string name, long[] value) => new(name, value);
}

/// <summary>One node of a graph (in the default ONNX domain unless <see cref="Domain"/> says otherwise).</summary>
public sealed record OnnxNode(string Op, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes, string Name)
{
    public string Domain { get; init; } = "";

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
/// Builds an ONNX graph node by node, and reads models back (<see cref="Parse"/>), so an exported or imported model
/// can be rewritten (FP16, INT8 QDQ, the import wrapper). Serialisation is OnnxSharp's generated ONNX types on
/// Google.Protobuf: nothing here encodes protobuf by hand. Values get unique names; initializers hold weights as raw
/// little-endian data.
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
    /// <summary>Operator sets of other domains the model imports (kept from a parsed model).</summary>
    public List<OperatorSetIdProto> OtherOpsets { get; } = [];

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
        var model = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = producer, ProducerVersion = producerVersion,
            Graph = ToGraphProto(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.OpsetImport.Add(OtherOpsets.Select(o => o.Clone()));
        foreach (var (k, v) in Metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model.ToByteArray();
    }

    private GraphProto ToGraphProto()
    {
        var g = new GraphProto { Name = "rtmtl" };
        foreach (var node in _nodes)
        {
            var n = new NodeProto { Name = node.Name, OpType = node.Op, Domain = node.Domain };
            n.Input.Add(node.Inputs);
            n.Output.Add(node.Outputs);
            foreach (var a in node.Attributes) n.Attribute.Add(ToAttribute(a));
            g.Node.Add(n);
        }
        foreach (var t in _initializers) g.Initializer.Add(ToTensor(t));
        foreach (var (name, type, dims) in _inputs) g.Input.Add(ValueInfo(name, type, dims));
        foreach (var (name, type, dims) in _outputs) g.Output.Add(ValueInfo(name, type, dims));
        return g;
    }

    private static TensorProto ToTensor(OnnxInitializer t)
    {
        var tensor = new TensorProto { Name = t.Name, DataType = (int)t.Type, RawData = ByteString.CopyFrom(t.Raw) };
        tensor.Dims.Add(t.Dims);
        return tensor;
    }

    private static ValueInfoProto ValueInfo(string name, OnnxType type, object[]? dims)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (dims is not null)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension
                {
                    DimValue
                    = Convert.ToInt64(d)
                });
            tensorType.Shape = shape;
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    private static AttributeProto ToAttribute(OnnxAttribute attribute)
    {
        if (attribute.Value is AttributeProto kept) return kept.Clone();
        var a = new AttributeProto { Name = attribute.Name };
        switch (attribute.Value)
        {
            case float f: a.F = f; a.Type = AttributeProto.Types.AttributeType.Float; break;
            case long i: a.I = i; a.Type = AttributeProto.Types.AttributeType.Int; break;
            case int i: a.I = i; a.Type = AttributeProto.Types.AttributeType.Int; break;
            case string s: a.S = ByteString.CopyFromUtf8(s); a.Type = AttributeProto.Types.AttributeType.String; break;
            case long[] ints: a.Ints.Add(ints); a.Type = AttributeProto.Types.AttributeType.Ints; break;
            case float[] floats: a.Floats.Add(floats); a.Type = AttributeProto.Types.AttributeType.Floats; break;
            case OnnxInitializer t: a.T = ToTensor(t); a.Type = AttributeProto.Types.AttributeType.Tensor; break;
            default: throw new ArgumentException($"unsupported attribute type {attribute.Value.GetType()}");
        }
        return a;
    }

    /// <summary>
    /// Reads any ONNX model (OnnxSharp's parser). Tensors arrive as raw little-endian data whatever field held them;
    /// a Constant node holding a tensor becomes an initializer; attributes of other kinds (subgraphs, string lists)
    /// are kept as read. What cannot be represented (string tensors, external data) is a clear
    /// <see cref="InvalidDataException"/>.
    /// </summary>
    public static OnnxGraph Parse(byte[] bytes)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new InvalidDataException($"not an ONNX model ({e.Message})", e); }
        if (model.Graph is null || (model.Graph.Node.Count == 0 && model.Graph.Output.Count == 0)) throw new
            InvalidDataException("not an ONNX model (no graph)");
        var g = new OnnxGraph { IrVersion = model.IrVersion };
        foreach (var o in model.OpsetImport)
        {
            if (o.Domain is "" or "ai.onnx") g.Opset = o.Version;
            else g.OtherOpsets.Add(o.Clone());
        }
        foreach (var e in model.MetadataProps) g.Metadata[e.Key] = e.Value;
        var graph = model.Graph;
        foreach (var t in graph.Initializer) g.AddParsed(FromTensor(t));
        foreach (var n in graph.Node)
        {
            var attributes = n.Attribute.Select(FromAttribute).ToArray();
            if (n.OpType == "Constant" && n.Domain.Length == 0 && n.Output.Count == 1 && attributes is [
                {
                    Name: "value",
                    Value: OnnxInitializer constant
                }])
            {
                // A Constant node is an initializer by another name: read it as one.
                g.AddParsed(constant with { Name = n.Output[0] });
                continue;
            }
            g._nodes.Add(new OnnxNode(n.OpType, n.Input.ToArray(), n.Output.ToArray(), attributes, n.Name) { Domain = n.Domain });
            g._taken.Add(n.Name);
            foreach (var o in n.Output) g._taken.Add(o);
        }
        foreach (var v in graph.Input) g._inputs.Add(FromValueInfo(v));
        foreach (var v in graph.Output) g._outputs.Add(FromValueInfo(v));
        foreach (var i in g._inputs) g._taken.Add(i.Name);
        return g;
    }

    private void AddParsed(OnnxInitializer t)
    {
        _initializers.Add(t);
        _taken.Add(t.Name);
    }

    /// <summary>A TensorProto as raw little-endian data: raw_data, or the typed fields other exporters use.</summary>
    private static OnnxInitializer FromTensor(TensorProto t)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External || t.ExternalData.Count > 0)
            throw new InvalidDataException($"tensor '{t.Name}' keeps its data in an external file; save the model with its weights inside " +
                $"(onnx.save_model(..., save_as_external_data=False))");
        var type = (OnnxType)t.DataType;
        byte[] raw;
        if (!t.RawData.IsEmpty) raw = t.RawData.ToByteArray();
        else if (t.FloatData.Count > 0) raw = Bytes(t.FloatData.ToArray());
        else if (t.Int64Data.Count > 0) raw = Bytes(t.Int64Data.ToArray());
        else if (t.DoubleData.Count > 0) raw = Bytes(t.DoubleData.ToArray());
        else if (t.Int32Data.Count > 0)
        {
            // int32_data carries int32, and also uint8, int8, bool and float16 values, one per element.
            raw = type switch
            {
                OnnxType.Int32 => Bytes(t.Int32Data.ToArray()),
                OnnxType.UInt8 or OnnxType.Int8 => t.Int32Data.Select(v => (byte)v).ToArray(),
                OnnxType.Float16 => Bytes(t.Int32Data.Select(v => (ushort)v).ToArray()),
                _ => throw new InvalidDataException($"tensor '{t.Name}' of type {t.DataType} in int32_data is not supported"),
            };
        }
        else if (t.StringData.Count > 0) throw new InvalidDataException($"tensor '{t.Name}' holds strings, which rtmtl cannot rewrite");
        else raw = [];
        return new OnnxInitializer(t.Name, type, t.Dims.ToArray(), raw);
    }

    private static byte[] Bytes<T>(T[] values) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static OnnxAttribute FromAttribute(AttributeProto a) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Float => new OnnxAttribute(a.Name, a.F),
        AttributeProto.Types.AttributeType.Int => new OnnxAttribute(a.Name, a.I),
        AttributeProto.Types.AttributeType.String => new OnnxAttribute(a.Name, a.S.ToStringUtf8()),
        AttributeProto.Types.AttributeType.Ints => new OnnxAttribute(a.Name, a.Ints.ToArray()),
        AttributeProto.Types.AttributeType.Floats => new OnnxAttribute(a.Name, a.Floats.ToArray()),
        AttributeProto.Types.AttributeType.Tensor when a.T is not null => new OnnxAttribute(a.Name, FromTensor(a.T)),
        // Subgraphs (If, Loop, Scan), lists of strings, tensors or graphs, sparse tensors, type protos: kept as read.
        _ => new OnnxAttribute(a.Name, a.Clone()),
    };

    private static (string, OnnxType, object[]?) FromValueInfo(ValueInfoProto v)
    {
        var tensor = v.Type?.TensorType;
        var type = tensor is null ? OnnxType.Float : (OnnxType)tensor.ElemType;
        object[]? dims = tensor?.Shape?.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => (object)d.DimValue,
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        }).ToArray();
        return (v.Name, type, dims);
    }
}
