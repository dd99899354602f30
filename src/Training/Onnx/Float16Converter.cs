using RealtimeMtl.Common.Models;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
namespace RealtimeMtl.Training.Onnx;

/// <summary>
/// FP16 export for GPUs: the network between normalisation and its two heads computes in float16 (weights stored
/// as float16, half the file size); the contract's uint8 input, the normalisation, argmax, confidence and the depth
/// clip stay in float32, so the engine runs the file unchanged.
/// </summary>
public static class Float16Converter
{
    public static OnnxGraph Convert(OnnxGraph source)
    {
        var g = OnnxGraph.Parse(source.ToModel());
        var start = g.Nodes.FirstOrDefault(n => n.Name == "normalise_std")?.Outputs[0]
            ?? throw new InvalidDataException("not an rtmtl export: no 'normalise_std' node");
        var ends = g.Nodes.Where(n => n.Op == "ArgMax" || n.Name == "depth_clip").Select(n => n.Inputs[0]).Distinct().ToList();
        if (ends.Count == 0) throw new InvalidDataException("not an rtmtl export: no ArgMax or depth_clip node");

        // Core = descendants of the normalised input that are ancestors of the heads' outputs.
        var below = new HashSet<string> { start };
        var descendants = new HashSet<OnnxNode>();
        foreach (var n in g.Nodes)
            if (n.Inputs.Any(below.Contains)) { descendants.Add(n); foreach (var o in n.Outputs) below.Add(o); }
        var needed = new HashSet<string>(ends);
        var core = new HashSet<OnnxNode>();
        for (var i = g.Nodes.Count - 1; i >= 0; i--)
        {
            var n = g.Nodes[i];
            if (!n.Outputs.Any(needed.Contains)) continue;
            foreach (var input in n.Inputs) needed.Add(input);
            if (descendants.Contains(n)) core.Add(n);
        }

        var floatInits = g.Initializers.Where(t => t.Type == OnnxType.Float).ToDictionary(t => t.Name);
        var consumers = g.Consumers();
        var halfName = new Dictionary<string, string>();
        foreach (var (name, t) in floatInits)
        {
            var users = consumers.GetValueOrDefault(name) ?? [];
            if (!users.Any(core.Contains)) continue;
            var raw = new byte[t.Raw.Length / 2];
            var f = t.Floats();
            for (var i = 0; i < f.Length; i++) BitConverter.TryWriteBytes(raw.AsSpan(i * 2), BitConverter.HalfToUInt16Bits((Half)f[i]));
            if (users.All(core.Contains))
            {
                g.Initializers[g.Initializers.IndexOf(t)] = t with { Type = OnnxType.Float16, Raw = raw };
                halfName[name] = name;
            }
            else halfName[name] = g.AddInitializer(name + "_fp16", OnnxType.Float16, t.Dims, raw);
        }

        var toHalf = g.MakeNode("Cast", [start], 1, "to_float16", OnnxAttribute.Of("to", (long)OnnxType.Float16));
        var back = ends.ToDictionary(e => e, e => g.MakeNode("Cast", [e], 1, "to_float32", OnnxAttribute.Of("to", (long)OnnxType.Float)));
        var nodes = new List<OnnxNode>();
        foreach (var n in g.Nodes)
        {
            OnnxNode rewritten;
            if (core.Contains(n))
                rewritten = n with { Inputs = n.Inputs.Select(i => i == start ? toHalf.Outputs[0] : halfName.GetValueOrDefault(i, i)).ToArray() };
            else
                rewritten = n with { Inputs = n.Inputs.Select(i => back.TryGetValue(i, out var c) ? c.Outputs[0] : i).ToArray() };
            nodes.Add(rewritten);
            if (n.Outputs.Contains(start)) nodes.Add(toHalf);
            foreach (var o in n.Outputs) if (back.TryGetValue(o, out var c)) nodes.Add(c);
        }
        g.Nodes.Clear();
        g.Nodes.AddRange(nodes);
        g.Metadata[ModelMetadataKeys.Precision] = "fp16";
        return g;
    }
}
