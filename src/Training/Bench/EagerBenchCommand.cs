using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Bench;

/// <summary>
/// rtmtl-train bench-eager: the network of an exported model run by TorchSharp eager on the CPU, with the same
/// pre- and post-processing the ONNX graph holds (uint8 BGR in; normalise; labels by argmax; depth; max softmax).
/// rtmtl bench calls it as the TorchSharp peer: the engine itself never loads LibTorch.
/// The weights are a fresh initialisation of the same architecture: an ONNX file holds folded weights without their
/// module names, and the time of a dense network does not depend on its weight values.
/// </summary>
internal static class EagerBenchCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "Exported ONNX model whose architecture to run", Required = true };
        var frames = new Option<int>("--frames") { Description = "Measured forward passes after 3 warm-up passes", DefaultValueFactory = _ => 30 };
        var threads = new Option<int>("--threads") { Description = "LibTorch intra-op threads (0 = one per core)", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Write the figures as JSON here" };
        var cmd = new Command("bench-eager", """
            Time the architecture of an exported model in TorchSharp eager mode (the peer of rtmtl bench).
            Example: rtmtl-train bench-eager --model models/mtl_ssw_light.onnx --frames 30 --json out/eager.json
            """) { model, frames, threads, json };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(model)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"model '{path}' does not exist; pass an exported .onnx file.");
            var n = r.GetValue(frames);
            if (n < 1) throw new ArgumentException("--frames must be at least 1");
            var t = r.GetValue(threads);
            set_num_threads(t > 0 ? t : Environment.ProcessorCount);
            var figures = Measure(path, n);
            var text = JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true });
            if (r.GetValue(json) is { } j) AtomicFile.Write(j, text);
            Console.WriteLine(text);
            return 0;
        });
        return cmd;
    }

    public static Dictionary<string, object> Measure(string path, int frames)
    {
        Dictionary<string, string> md;
        using (var session = new InferenceSession(path)) md = new(session.ModelMetadata.CustomMetadataMap);
        var config = ConfigFromMetadata.Read(md, path);
        using var net = new MtlNet(config);
        net.eval();
        var mean = TensorFrom.Array(MtlNet.MeanBgr.Select(m => m * 255f).ToArray(), 1, 3, 1, 1);
        var invStd = TensorFrom.Array(MtlNet.StdBgr.Select(s => 1f / (s * 255f)).ToArray(), 1, 3, 1, 1);
        var image = randint(0, 256, [1, config.InputHeight, config.InputWidth, 3], dtype: ScalarType.Byte);
        using var noGrad = no_grad();
        // CPU eager ops run synchronously: when Once returns, every output exists.
        void Once()
        {
            using var scope = NewDisposeScope();
            var x = (image.to_type(ScalarType.Float32).permute(0, 3, 1, 2) - mean) * invStd;
            var (seg, depth) = net.forward(x.contiguous());
            if (seg.numel() > 0)
            {
                seg.argmax(1).to_type(ScalarType.Byte);
                seg.softmax(1).amax([1]);
            }
            if (depth.numel() > 0) depth.clamp(0, config.MaxDepth).squeeze(1);
        }
        var timing = RepeatTiming.Measure(Once, 3, frames);
        return new Dictionary<string, object>
        {
            ["torch.fps"] = timing.Fps,
            ["torch.ms.p50"] = timing.P50Ms,
            ["torch.ms.p95"] = timing.P95Ms,
            ["torch.frames"] = frames,
            ["torch.threads"] = get_num_threads(),
            ["torch.version"] = typeof(torch).Assembly.GetName().Version?.ToString() ?? "?",
            ["torch.architecture"] = $"{config.ArchitectureName} {ModelConfig.BackboneName(config.Backbone)}-os{config.OutputStride} " +
                $"{config.InputWidth}x{config.InputHeight}",
            ["torch.parameters"] = net.ParameterCount,
        };
    }
}
