using System.CommandLine;
using System.Globalization;
using RealtimeMtl.Common.Models;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Training.Cli;

/// <summary>
/// rtmtl import: wraps an ONNX model exported elsewhere (PyTorch's torch.onnx.export: float32 NCHW RGB in [0,1]
/// normalised by mean/std, segmentation logits and a depth map at any resolution, any names) into the engine's
/// contract: uint8 BGR NHWC in; labels, depth and confidence out at input resolution; rtmtl.* metadata from the
/// options. The original graph is kept node for node; only the conversion in front and the heads behind are added.
/// </summary>
internal static class ImportCommand
{
    public static Command Build()
    {
        var input = new Option<string>("--onnx")
        {
            Description = "The ONNX file to wrap (float32 NCHW input, fixed H and W; opset 13 or newer)",
            Required = true
        };
        var output = new Option<string>("--out") { Description = "Where to write the wrapped model", Required = true };
        var mean = new Option<string>("--mean")
        {
            Description = "Per-channel mean R,G,B of the [0,1] input (ImageNet: 0.485,0.456,0.406)",
            DefaultValueFactory = _ => "0.485,0.456,0.406"
        };
        var std = new Option<string>("--std")
        {
            Description = "Per-channel std R,G,B (ImageNet: 0.229,0.224,0.225)", DefaultValueFactory = _
            => "0.229,0.224,0.225"
        };
        var bgr = new Option<bool>("--bgr") { Description = "The model takes BGR channel order (default RGB)" };
        var seg = new Option<string>("--seg-output") { Description = "Name of the segmentation logits output [N,C,h,w]", Required = true };
        var depth = new Option<string>("--depth-output") { Description = "Name of the depth output [N,1,h,w] or [N,h,w]", Required = true };
        var classes = new Option<string?>("--classes") { Description = "Class names a,b,... in logit order" };
        var labelset = new Option<string?>("--labelset") { Description = "Or a known label set: nyu13, nyu40, sunrgbd37" };
        var scale = new Option<double>("--depth-scale")
        {
            Description = "Multiply the depth output by this to get metres", DefaultValueFactory = _
            => 1.0
        };
        var range = new Option<string>("--depth-range")
        {
            Description = "Valid depth MIN,MAX in metres (the output is clipped to it)",
            DefaultValueFactory = _ => "0,10"
        };
        var cmd = new Command("import", """
            Wrap an ONNX model exported from PyTorch (or elsewhere) into the engine's contract, so that rtmtl run uses it.
            Example:
              ./rtmtl import --onnx nyu_model.onnx --out out/nyu.onnx --seg-output seg --depth-output depth --labelset nyu40
              ./rtmtl run --source 0 --model out/nyu.onnx --show
            """) { input, output, mean, std, bgr, seg, depth, classes, labelset, scale, range };
        cmd.SetAction(r =>
        {
            var labels = (r.GetValue(classes), r.GetValue(labelset)) switch
            {
                ({ } c, null) => new LabelSet("custom", c.Split(',', StringSplitOptions.TrimEntries)),
                (null, { } name) => LabelSet.ByName(name),
                _ => throw new ArgumentException("give the class names with --classes a,b,... or --labelset nyu13|nyu40|sunrgbd37 (one of them)"),
            };
            var depthRange = Floats(r.GetValue(range)!, 2, "--depth-range");
            if (!(depthRange[1] > depthRange[0])) throw new ArgumentException("--depth-range MIN,MAX needs MAX > MIN");
            var options = new ImportOptions(Floats(r.GetValue(mean)!, 3, "--mean"), Floats(r.GetValue(std)!, 3, "--std"), r.GetValue(bgr),
                r.GetValue(seg)!, r.GetValue(depth)!, labels, (float)r.GetValue(scale), depthRange[0], depthRange[1]);
            if (options.Std.Any(s => !(s > 0))) throw new ArgumentException("--std values must be positive");
            var path = r.GetValue(input)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"model '{path}' does not exist; pass the ONNX file to wrap with --onnx.");
            OnnxGraph source;
            try { source = OnnxGraph.Parse(File.ReadAllBytes(path)); }
            catch (InvalidDataException e) { throw new InvalidDataException($"'{path}' is not an ONNX model import can read: {e.Message}"); }
            var wrapped = ModelImport.Wrap(source, options, path);
            var outPath = r.GetValue(output)!;
            OutputFolder.EnsureParent(outPath, "--out");
            RealtimeMtl.Common.Files.AtomicFile.Write(outPath, wrapped.ToModel());
            Console.WriteLine($"wrote {outPath}: {labels.Count} classes ({labels.Name}), input {wrapped.Metadata[ModelMetadataKeys.InputSize]}, " +
                $"depth {depthRange[0]}-{depthRange[1]} m; run it with ./rtmtl run --model {outPath}");
            return 0;
        });
        return cmd;
    }

    private static float[] Floats(string text, int count, string option)
    {
        var p = text.Split(',');
        var v = new float[p.Length];
        if (p.Length != count || p.Where((s, i) => !float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v[i])
            || !float.IsFinite(v[i])).Any())
            throw new ArgumentException($"{option} '{text}' must be {count} comma-separated numbers");
        return v;
    }
}

internal sealed record ImportOptions(float[] Mean, float[] Std, bool Bgr, string SegOutput, string DepthOutput, LabelSet Labels, float DepthScale,
    float DepthMin, float DepthMax);

/// <summary>The graph surgery behind rtmtl import.</summary>
internal static class ModelImport
{
    public static OnnxGraph Wrap(OnnxGraph source, ImportOptions o, string path)
    {
        if (source.Opset < 13) throw new ArgumentException($"'{path}' uses ONNX opset {source.Opset}; export it with opset_version 13 or newer.");
        var graphInputs = source.Inputs.Where(i => source.Initializers.All(t => t.Name != i.Name)).ToList();
        if (graphInputs.Count != 1) throw new ArgumentException($"'{path}' has {graphInputs.Count} inputs; import takes a model with one image " +
            $"input.");
        var (inName, inType, inDims) = graphInputs[0];
        if (inType != OnnxType.Float) throw new ArgumentException($"'{path}': input '{inName}' is {inType}; import expects float32 NCHW.");
        if (inDims is not { Length: 4 } || inDims[2] is not long h || inDims[3] is not long w || inDims[1] is not long c3 || c3 != 3)
            throw new ArgumentException($"'{path}': input '{inName}' must be [N,3,H,W] with fixed H and W (export with a fixed input size), found " +
                $"[{string.Join(",", inDims ?? [])}].");
        var seg = source.Outputs.FirstOrDefault(x => x.Name == o.SegOutput);
        var dep = source.Outputs.FirstOrDefault(x => x.Name == o.DepthOutput);
        var names = string.Join(", ", source.Outputs.Select(x => x.Name));
        if (seg.Name is null) throw new ArgumentException($"'{path}' has no output '{o.SegOutput}' (--seg-output); its outputs are: {names}.");
        if (dep.Name is null) throw new ArgumentException($"'{path}' has no output '{o.DepthOutput}' (--depth-output); its outputs are: {names}.");
        if (seg.Dims is { Length: not 4 }) throw new
            ArgumentException($"'{path}': --seg-output '{seg.Name}' must be logits [N,C,h,w], found rank {seg.Dims.Length}.");
        if (dep.Dims is { Length: not (3 or 4) }) throw new
            ArgumentException($"'{path}': --depth-output '{dep.Name}' must be [N,1,h,w] or [N,h,w], found rank {dep.Dims.Length}.");
        if (dep.Dims is { Length: 4 } && dep.Dims[1] is long dc && dc != 1)
            throw new ArgumentException($"'{path}': --depth-output '{dep.Name}' must be [N,1,h,w] or [N,h,w], found {dc} channels.");
        if (seg.Dims is { Length: 4 } && seg.Dims[1] is long classes && classes != o.Labels.Count)
            throw new ArgumentException($"'{path}': the segmentation output has {classes} classes but {o.Labels.Count} class names were given.");

        var g = new OnnxGraph { Opset = source.Opset, IrVersion = Math.Max(source.IrVersion, 7) };
        g.OtherOpsets.AddRange(source.OtherOpsets);
        const string prefix = "src/";
        string Rename(string n) => n.Length == 0 ? n : prefix + n;
        // Front: uint8 BGR NHWC -> float NCHW in the model's channel order, /255, (x - mean) / std.
        var image = g.Input("image", OnnxType.UInt8, "N", h, w, 3L);
        var x = g.Node("Cast", [image], "to_float", OnnxAttribute.Of("to", (long)OnnxType.Float));
        if (!o.Bgr) x = g.Node("Gather", [x, g.Initializer("bgr_to_rgb", [2L, 1L, 0L], 3)], "bgr_to_rgb", OnnxAttribute.Of("axis", 3L));
        x = g.Node("Transpose", [x], "to_nchw", OnnxAttribute.Of("perm", new[] { 0L, 3L, 1L, 2L }));
        var mean = (o.Bgr ? o.Mean.Reverse() : o.Mean).Select(m => m * 255f).ToArray();
        var invStd = (o.Bgr ? o.Std.Reverse() : o.Std).Select(s => 1f / (s * 255f)).ToArray();
        x = g.Node("Sub", [x, g.Initializer("mean", mean, 1, 3, 1, 1)], "normalise_mean");
        x = g.Node("Mul", [x, g.Initializer("inv_std", invStd, 1, 3, 1, 1)], "normalise_std");
        g.Identity(x, Rename(inName));
        // The original graph, every name prefixed so nothing collides with the wrapper's.
        foreach (var t in source.Initializers) g.Initializers.Add(t with { Name = Rename(t.Name) });
        foreach (var n in source.Nodes)
            g.Nodes.Add(n with
            {
                Inputs = n.Inputs.Select(Rename).ToArray(),
                Outputs = n.Outputs.Select(Rename).ToArray(),
                Name = Rename(n.Name),
                Attributes = n.Attributes.Select(a => a.Value is global::Onnx.AttributeProto kept ? a with { Value = RenameInSubgraphs(kept, Rename) }
                    : a).ToArray(),
            });
        // Back: resize to the input size, argmax / max softmax for labels / confidence, depth in metres clipped to its range.
        string Resize(string value, string name)
        {
            // Resize by sizes (N and C kept through Shape/Slice), bilinear, half_pixel like interpolate(align_corners=False).
            var shape = g.Node("Shape", [value], name + "_shape");
            var nc = g.Node("Slice", [shape, g.Initializer(name + "_s0", [0L], 1), g.Initializer(name + "_e2", [2L], 1)], name + "_nc");
            var hw = g.Initializer(name + "_hw", [h, w], 2);
            var target = g.Node("Concat", [nc, hw], name + "_sizes", OnnxAttribute.Of("axis", 0L));
            return g.Node("Resize", [value, "", "", target], name + "_resized",
                OnnxAttribute.Of("mode", "linear"), OnnxAttribute.Of("coordinate_transformation_mode", "half_pixel"));
        }
        var logits = Resize(Rename(seg.Name), "seg");
        var labels = g.Node("Cast", [g.Node("ArgMax", [logits], "argmax", OnnxAttribute.Of("axis", 1L), OnnxAttribute.Of("keepdims", 0L))],
            "labels_u8",
            OnnxAttribute.Of("to", (long)OnnxType.UInt8));
        g.Identity(labels, "labels");
        var probs = g.Node("Softmax", [logits], "softmax", OnnxAttribute.Of("axis", 1L));
        var confidence = g.Node("ReduceMax", [probs], "max_prob", OnnxAttribute.Of("axes", new[] { 1L }), OnnxAttribute.Of("keepdims", 0L));
        g.Identity(confidence, "confidence");
        var d = Rename(dep.Name);
        if (dep.Dims is { Length: 3 } || dep.Dims is null)
            d = g.Node("Unsqueeze", [d, g.Initializer("depth_axis", [1L], 1)], "depth_nchw");
        d = Resize(d, "depth");
        d = g.Node("Squeeze", [d, g.Initializer("depth_squeeze", [1L], 1)], "depth_nhw");
        if (o.DepthScale != 1f) d = g.Node("Mul", [d, g.Initializer("depth_scale", [o.DepthScale])], "depth_metres");
        d = g.Node("Clip", [d, g.Initializer("depth_min", [o.DepthMin]), g.Initializer("depth_max", [o.DepthMax])], "depth_clip");
        g.Identity(d, "depth");
        g.Output("labels", OnnxType.UInt8, "N", h, w);
        g.Output("depth", OnnxType.Float, "N", h, w);
        g.Output("confidence", OnnxType.Float, "N", h, w);
        var c = CultureInfo.InvariantCulture;
        g.Metadata[ModelMetadataKeys.Architecture] = "imported";
        g.Metadata[ModelMetadataKeys.Backbone] = "unknown";
        g.Metadata[ModelMetadataKeys.LabelSet] = o.Labels.Name;
        g.Metadata[ModelMetadataKeys.Classes] = string.Join(",", o.Labels.Classes);
        g.Metadata[ModelMetadataKeys.Palette] = string.Join(",", o.Labels.HexPalette());
        g.Metadata[ModelMetadataKeys.InputSize] = $"{w}x{h}";
        g.Metadata[ModelMetadataKeys.DepthRange] = string.Create(c, $"{o.DepthMin},{o.DepthMax}");
        g.Metadata[ModelMetadataKeys.Dataset] = "imported";
        g.Metadata[ModelMetadataKeys.Source] = Path.GetFileName(path);
        g.Metadata[ModelMetadataKeys.Import] = string.Create(c,
            $"mean {string.Join(",", o.Mean)}; std {string.Join(",", o.Std)}; {(o.Bgr ? "BGR" : "RGB")}; seg '{o.SegOutput}', depth " +
                $"'{o.DepthOutput}' x {o.DepthScale}");
        return g;
    }

    /// <summary>
    /// The same renaming inside the subgraphs of If, Loop and Scan nodes: they read the outer graph's values by name,
    /// so every name in them (their own included, consistently) takes the prefix.
    /// </summary>
    private static global::Onnx.AttributeProto RenameInSubgraphs(global::Onnx.AttributeProto attribute, Func<string, string> rename)
    {
        var a = attribute.Clone();
        if (a.G is not null) RenameGraph(a.G, rename);
        foreach (var sub in a.Graphs) RenameGraph(sub, rename);
        return a;
    }

    private static void RenameGraph(global::Onnx.GraphProto graph, Func<string, string> rename)
    {
        static void Rename(Google.Protobuf.Collections.RepeatedField<string> names, Func<string, string> rename)
        {
            for (var i = 0; i < names.Count; i++) names[i] = rename(names[i]);
        }
        foreach (var n in graph.Node)
        {
            Rename(n.Input, rename);
            Rename(n.Output, rename);
            n.Name = rename(n.Name);
            foreach (var a in n.Attribute)
            {
                if (a.G is not null) RenameGraph(a.G, rename);
                foreach (var sub in a.Graphs) RenameGraph(sub, rename);
            }
        }
        foreach (var t in graph.Initializer) t.Name = rename(t.Name);
        foreach (var v in graph.Input) v.Name = rename(v.Name);
        foreach (var v in graph.Output) v.Name = rename(v.Name);
        foreach (var v in graph.ValueInfo) v.Name = rename(v.Name);
    }
}
