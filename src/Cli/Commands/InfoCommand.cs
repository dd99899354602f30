using System.CommandLine;
using System.Text.Json;
using RealtimeMtl.Common.Models;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;

namespace RealtimeMtl.Cli.Commands;

internal static class InfoCommand
{
    public static Command Build()
    {
        var model = new Argument<string?>("model") { Description = "ONNX model (default: the shipped model)", Arity = ArgumentArity.ZeroOrOne };
        var modelOption = new Option<string?>("--model", "-m") { Description = "ONNX model, as in the other commands" };
        var json = new Option<bool>("--json") { Description = "Print the contract and metadata as one JSON object (snake_case, schema_version)" };
        var cmd = new Command("info", """
            Show a model's contract check, inputs/outputs, rtmtl.* metadata and its model card.
            Examples: ./rtmtl info models/mtl_ssw_light.onnx
                      ./rtmtl info -m models/mtl_ssw_light.int8.onnx
                      ./rtmtl info --json
            """) { model, modelOption, json };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(modelOption) ?? r.GetValue(model) ?? DefaultModel.Path();
            try
            {
                using var m = new OnnxMtlModel(path);
                var i = m.Info;
                if (r.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        schema_version = 1,
                        model = path,
                        contract = new
                        {
                            input = new
                            {
                                name = "image", type = "uint8", shape = new object[] { "N", i.InputHeight, i.InputWidth, 3 },
                                layout = "BGR"
                            },
                            outputs = i.HasConfidence ? new[] { "labels", "depth", "confidence" } : new[] { "labels", "depth" },
                        },
                        architecture = i.Architecture,
                        backbone = i.Backbone,
                        label_set = i.Labels.Name,
                        classes = i.Labels.Classes,
                        depth_range_m = new[] { i.DepthMin, i.DepthMax },
                        dataset = i.Dataset,
                        metadata = i.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value),
                    }, new JsonSerializerOptions { WriteIndented = true }));
                    return 0;
                }
                Console.WriteLine($"model      {path}");
                Console.WriteLine($"contract   ok: image uint8 [N,{i.InputHeight},{i.InputWidth},3] BGR -> labels uint8, depth float32 " +
                    $"(m){(i.HasConfidence ? ", confidence float32" : "")}");
                Console.WriteLine($"arch       {i.Architecture} ({i.Backbone})");
                Console.WriteLine($"classes    {i.Labels.Name}: {string.Join(", ", i.Labels.Classes)}");
                Console.WriteLine($"depth      {i.DepthMin}-{i.DepthMax} m");
                Console.WriteLine($"trained on {i.Dataset}");
                foreach (var (k, v) in i.Metadata.OrderBy(kv => kv.Key))
                    if (k is ModelMetadataKeys.Metrics or ModelMetadataKeys.Recipe or ModelMetadataKeys.Parameters or
                        ModelMetadataKeys.SelectiveWeights) Console.WriteLine($"{k[6..],-10} {v}");
                var card = Path.ChangeExtension(path, ".md");
                if (File.Exists(card))
                {
                    Console.WriteLine();
                    Console.WriteLine(File.ReadAllText(card));
                }
                return 0;
            }
            catch (ModelContractException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }
}
