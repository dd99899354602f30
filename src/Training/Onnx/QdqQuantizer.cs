using Microsoft.ML.OnnxRuntime;
using RealtimeMtl.Common.Models;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Training.Onnx;

/// <summary>
/// Static INT8 quantization in QDQ form (QuantizeLinear/DequantizeLinear pairs that ONNX Runtime fuses into
/// QLinearConv and QLinearAdd on a CPU). Weights: int8, symmetric, per output channel. Activations: uint8,
/// asymmetric, per tensor, ranges from calibration frames (moving average of each frame's min and max). Biases:
/// int32 at scale input-scale x weight-scale. Quantized activations: every Conv input and every Conv output (after
/// its ReLU where the ReLU is its only consumer); the rest of the graph stays float.
/// </summary>
public static class QdqQuantizer
{
    /// <summary>The activation tensors that get a Q/DQ pair.</summary>
    public static List<string> ActivationTensors(OnnxGraph g)
    {
        var initializers = g.Initializers.Select(i => i.Name).ToHashSet();
        var consumers = g.Consumers();
        var set = new List<string>();
        void Add(string t) { if (!set.Contains(t)) set.Add(t); }
        foreach (var n in g.Nodes.Where(n => n.Op == "Conv"))
        {
            if (!initializers.Contains(n.Inputs[0])) Add(n.Inputs[0]);
            var y = n.Outputs[0];
            var users = consumers.GetValueOrDefault(y) ?? [];
            Add(users is [{ Op: "Relu" } relu] ? relu.Outputs[0] : y);
        }
        return set;
    }

    /// <summary>
    /// Runs the float model on <paramref name="images"/> (uint8 BGR at the model's input size) and returns each
    /// activation's range: the mean over frames of the per-frame minimum and maximum.
    /// </summary>
    public static Dictionary<string, (float Min, float Max)> Calibrate(OnnxGraph g, IEnumerable<byte[]> images, int width, int height,
        Action<int>? progress = null)
    {
        var tensors = ActivationTensors(g);
        var probe = OnnxGraph.Parse(g.ToModel());
        foreach (var t in tensors) probe.Output(t, OnnxType.Float);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(probe.ToModel(), options);
        var sumMin = new double[tensors.Count];
        var sumMax = new double[tensors.Count];
        var frames = 0;
        using var runOptions = new RunOptions();
        foreach (var image in images)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(image, [1, height, width, 3]);
            using var outputs = session.Run(runOptions, ["image"], [input], tensors);
            for (var i = 0; i < tensors.Count; i++)
            {
                var data = outputs[i].GetTensorDataAsSpan<float>();
                float mn = float.MaxValue, mx = float.MinValue;
                foreach (var v in data) { if (v < mn) mn = v; if (v > mx) mx = v; }
                sumMin[i] += mn;
                sumMax[i] += mx;
            }
            frames++;
            progress?.Invoke(frames);
        }
        if (frames == 0) throw new ArgumentException("calibration needs at least one frame");
        return tensors.Select((t, i) => (t, ((float)(sumMin[i] / frames), (float)(sumMax[i] / frames)))).ToDictionary(p => p.t, p => p.Item2);
    }

    /// <summary>Returns a new graph in QDQ form; <paramref name="g"/> is not changed.</summary>
    public static OnnxGraph Quantize(OnnxGraph source, IReadOnlyDictionary<string, (float Min, float Max)> ranges)
    {
        var g = OnnxGraph.Parse(source.ToModel());
        var weights = g.Initializers.ToDictionary(i => i.Name);
        var activation = new Dictionary<string, (float Scale, byte Zero, string ScaleName, string ZeroName)>();
        var dequantized = new Dictionary<string, string>();
        var nodes = new List<OnnxNode>();
        var usedInitializers = new HashSet<string>();

        (float, byte, string, string) Params(string t)
        {
            if (activation.TryGetValue(t, out var p)) return p;
            var (min, max) = ranges.TryGetValue(t, out var r) ? r : throw new ArgumentException($"no calibration range for '{t}'");
            min = Math.Min(min, 0f);
            max = Math.Max(max, 0f);
            var scale = (max - min) / 255f;
            if (!(scale > 1e-12f)) scale = 1e-6f;
            var zero = (byte)Math.Clamp(MathF.Round(-min / scale), 0, 255);
            var scaleName = g.Initializer(t + "_scale", [scale]);
            var zeroName = g.AddInitializer(t + "_zero_point", OnnxType.UInt8, [], [zero]);
            activation[t] = (scale, zero, scaleName, zeroName);
            return activation[t];
        }

        foreach (var node in g.Nodes)
        {
            var inputs = node.Inputs.Select(i => dequantized.GetValueOrDefault(i, i)).ToArray();
            if (node.Op == "Conv" && activation.ContainsKey(node.Inputs[0]) && weights.TryGetValue(node.Inputs[1], out var w))
            {
                var (xScale, _, _, _) = activation[node.Inputs[0]];
                var (wq, wScales) = QuantizeWeights(w);
                var wqName = g.AddInitializer(w.Name + "_quantized", OnnxType.Int8, w.Dims, wq);
                var wsName = g.Initializer(w.Name + "_scale", wScales, wScales.Length);
                var wzName = g.AddInitializer(w.Name + "_zero_point", OnnxType.Int8, [wScales.Length], new byte[wScales.Length]);
                var wdq = g.MakeNode("DequantizeLinear", [wqName, wsName, wzName], 1, w.Name + "_dq", OnnxAttribute.Of("axis", 0L));
                nodes.Add(wdq);
                inputs[1] = wdq.Outputs[0];
                usedInitializers.Add(w.Name);
                if (node.Inputs.Length > 2 && weights.TryGetValue(node.Inputs[2], out var b))
                {
                    var bf = b.Floats();
                    var bScales = wScales.Select(s => s * xScale).ToArray();
                    var bq = new int[bf.Length];
                    for (var c = 0; c < bf.Length; c++) bq[c] = (int)Math.Clamp(MathF.Round(bf[c] / bScales[c]), int.MinValue + 1, int.MaxValue);
                    var raw = new byte[bq.Length * 4];
                    Buffer.BlockCopy(bq, 0, raw, 0, raw.Length);
                    var bqName = g.AddInitializer(b.Name + "_quantized", OnnxType.Int32, b.Dims, raw);
                    var bsName = g.Initializer(b.Name + "_scale", bScales, bScales.Length);
                    var bdq = g.MakeNode("DequantizeLinear", [bqName, bsName], 1, b.Name + "_dq", OnnxAttribute.Of("axis", 0L));
                    nodes.Add(bdq);
                    inputs[2] = bdq.Outputs[0];
                    usedInitializers.Add(b.Name);
                }
            }
            nodes.Add(node with { Inputs = inputs });
            foreach (var o in node.Outputs)
            {
                if (!ranges.ContainsKey(o)) continue;
                var (_, _, scaleName, zeroName) = Params(o);
                var q = g.MakeNode("QuantizeLinear", [o, scaleName, zeroName], 1, o + "_q");
                var dq = g.MakeNode("DequantizeLinear", [q.Outputs[0], scaleName, zeroName], 1, o + "_dq");
                nodes.Add(q);
                nodes.Add(dq);
                dequantized[o] = dq.Outputs[0];
            }
        }
        // Graph inputs feeding a Conv directly are not quantized (the image enters as uint8 and is normalised first).
        g.Nodes.Clear();
        g.Nodes.AddRange(nodes);
        var stillUsed = nodes.SelectMany(n => n.Inputs).ToHashSet();
        g.Initializers.RemoveAll(i => usedInitializers.Contains(i.Name) && !stillUsed.Contains(i.Name));
        g.Metadata[ModelMetadataKeys.Precision] = "int8-qdq";
        return g;
    }

    /// <summary>
    /// The largest weight code. 7 bits (63), not 8 (127): on x86-64 CPUs without VNNI (AVX2 only, such as AMD Zen 3)
    /// ONNX Runtime multiplies uint8 activations by int8 weights with vpmaddubsw, whose int16 sum of two products
    /// saturates beyond 127 x 255 x 2; there the full range lost 13 % label agreement with the float model. 7-bit
    /// weights never saturate, so one int8 file gives the same answers on every CPU (ONNX Runtime's reduce_range).
    /// </summary>
    public const int MaxWeightCode = 63;

    /// <summary>Symmetric per-output-channel int8 with 7-bit codes: scale = max |w| / <see cref="MaxWeightCode"/>.</summary>
    public static (byte[] Quantized, float[] Scales) QuantizeWeights(OnnxInitializer w)
    {
        var f = w.Floats();
        var channels = (int)w.Dims[0];
        var per = f.Length / channels;
        var q = new byte[f.Length];
        var scales = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var amax = 0f;
            for (var i = 0; i < per; i++) amax = Math.Max(amax, MathF.Abs(f[c * per + i]));
            var s = amax > 0 ? amax / MaxWeightCode : 1f;
            scales[c] = s;
            for (var i = 0; i < per; i++) q[c * per + i] = (byte)(sbyte)Math.Clamp(MathF.Round(f[c * per + i] / s), -MaxWeightCode, MaxWeightCode);
        }
        return (q, scales);
    }
}
