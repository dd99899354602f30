using System.Globalization;
using System.Text;
using System.Text.Json;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Models;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

/// <summary>
/// ./rtmtl export --onnx M --precision fp16|int8: rewrites an exported float model (FP16 for GPUs; INT8 QDQ,
/// calibrated on training frames, for CPUs), evaluates both on the synthetic test split with ONNX Runtime, measures
/// both latencies in the same run, and writes the new model with a card that states the speed-up and metric change.
/// </summary>
internal static class PrecisionExport
{
    /// <summary>Both paths name one file (a link to it, too).</summary>
    private static (int W, int H) InputSize(IReadOnlyDictionary<string, string> md, string path)
    {
        var size = md.GetValueOrDefault(ModelMetadataKeys.InputSize, "").Split('x');
        if (size.Length == 2 && int.TryParse(size[0], CultureInfo.InvariantCulture, out var w) && int.TryParse(size[1], CultureInfo.InvariantCulture,
            out var h) && w > 0 && h > 0)
            return (w, h);
        throw new InvalidDataException($"'{path}' has no {ModelMetadataKeys.InputSize} metadata; export or import it with rtmtl first.");
    }

    public static int Run(string inputPath, string outPath, string precision, int calibrationFrames, int testSamples, string? command,
        bool noEval = false)
    {
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"model '{inputPath}' does not exist; pass an exported float .onnx to --onnx.");
        if (precision is not ("fp16" or "int8")) throw new ArgumentException($"--precision '{precision}': with --onnx use fp16 or int8");
        if (testSamples < 1) throw new ArgumentException("--test-samples must be at least 1");
        if (calibrationFrames < 1) throw new ArgumentException("--calibration-frames must be at least 1");
        if (Path.GetFullPath(outPath) == Path.GetFullPath(inputPath) || (File.Exists(outPath) && RealtimeMtl.Common.Files.PathIdentity.Same(outPath,
            inputPath)))
            throw new ArgumentException($"--out '{outPath}' is the --onnx input; write the {precision} model to another file (nothing was changed).");
        OutputFolder.EnsureParent(outPath, "--out");
        var floatBytes = File.ReadAllBytes(inputPath);
        OnnxGraph source;
        try { source = OnnxGraph.Parse(floatBytes); }
        catch (InvalidDataException e) { throw new InvalidDataException($"'{inputPath}' is not an ONNX model rtmtl-train can rewrite: {e.Message}"); }
        if (source.Metadata.GetValueOrDefault(ModelMetadataKeys.Precision, "fp32") != "fp32")
            throw new ArgumentException($"'{inputPath}' is already {source.Metadata[ModelMetadataKeys.Precision]}; start from the float model.");
        var md = source.Metadata;
        // Only the input size is needed here; an imported model (no rtmtl architecture) has it in its metadata too.
        var (w, h) = InputSize(md, inputPath);
        var dataset = md.GetValueOrDefault(ModelMetadataKeys.Dataset, "an unknown data set");
        var synthetic = Data.DatasetFactory.IsSynthetic(dataset);
        var randomised = dataset == "synthetic-dr";
        // The test split here is the synthetic world: a model trained elsewhere (or untrained) is converted, not scored.
        var evaluate = !noEval && synthetic;
        if (!noEval && !synthetic)
            Console.Error.WriteLine($"note: '{inputPath}' was trained on {dataset}; the test split here is the synthetic world, so the {precision} " +
                $"file is written without evaluation (as with --no-eval).");
        var seed = 1;
        if (md.TryGetValue(ModelMetadataKeys.Recipe, out var recipeJson) && JsonSerializer.Deserialize<Dictionary<string,
            string>>(recipeJson) is { } recipe
            && recipe.TryGetValue("seed", out var s)) seed = int.Parse(s, CultureInfo.InvariantCulture);

        OnnxGraph converted;
        if (precision == "int8")
        {
            if (!synthetic)
                Console.Error.WriteLine($"note: calibrating the activation ranges of a model trained on {dataset} on synthetic frames; ranges from " +
                    $"the model's own training images would fit it better.");
            var calibration = new SyntheticDataset(seed, Split.Train, calibrationFrames, w, h, randomised: randomised);
            Console.Error.WriteLine($"calibrating {QdqQuantizer.ActivationTensors(source).Count} activations on {calibrationFrames} training " +
                $"frames (synthetic seed {seed})");
            var ranges = QdqQuantizer.Calibrate(source, Enumerable.Range(0, calibrationFrames).Select(i => calibration.Get(i).Image), w, h);
            converted = QdqQuantizer.Quantize(source, ranges);
            converted.Metadata[ModelMetadataKeys.Calibration] =
                $"{calibrationFrames} synthetic training frames (seed {seed}), min/max moving average";
        }
        else converted = Float16Converter.Convert(source);
        converted.Metadata.Remove(ModelMetadataKeys.Metrics);
        var bytes = converted.ToModel();
        if (!evaluate)
        {
            OutputFolder.EnsureParent(outPath, "--out");
            RealtimeMtl.Common.Files.AtomicFile.Write(outPath, bytes);
            Console.WriteLine($"wrote {outPath} ({bytes.Length / 1048576.0:0.00} MiB; fp32 {floatBytes.Length / 1048576.0:0.00} MiB); not evaluated");
            var plainCard = Path.ChangeExtension(outPath, ".md");
            AtomicFile.Write(plainCard, UnevaluatedCard(Path.GetFileName(outPath), inputPath, precision, dataset, command
                ?? $"./rtmtl export --onnx {inputPath} --precision {precision}{(noEval ? " --no-eval" : "")} --out {outPath}"));
            Console.WriteLine($"wrote {plainCard}");
            return 0;
        }

        var test = new SyntheticDataset(seed, Split.Test, testSamples, w, h, randomised: randomised);
        Console.Error.WriteLine($"evaluating fp32 and {precision} on {testSamples} test stills (--no-eval skips this)");
        var config = Models.ConfigFromMetadata.Read(md, inputPath);
        var before = OrtEvaluation.Evaluate(floatBytes, test, config.NumClasses, "evaluating fp32");
        var after = OrtEvaluation.Evaluate(bytes, test, config.NumClasses, $"evaluating {precision}");
        // Interleave the latency runs so that both see the same machine state.
        double lat32 = 0, latNew = 0;
        const int rounds = 3;
        for (var i = 0; i < rounds; i++)
        {
            lat32 += OrtEvaluation.MedianLatencyMs(floatBytes, w, h) / rounds;
            latNew += OrtEvaluation.MedianLatencyMs(bytes, w, h) / rounds;
        }
        var metrics = after.ToDictionary();
        metrics["cpu_latency_ms"] = latNew;
        converted.Metadata[ModelMetadataKeys.Metrics] = JsonSerializer.Serialize(metrics, Trainer.JsonLines);
        bytes = converted.ToModel();
        OutputFolder.EnsureParent(outPath, "--out");
        RealtimeMtl.Common.Files.AtomicFile.Write(outPath, bytes);

        Console.WriteLine($"wrote {outPath} ({bytes.Length / 1048576.0:0.00} MiB; fp32 {floatBytes.Length / 1048576.0:0.00} MiB)");
        Console.WriteLine($"test split fp32: mIoU {TrainingCli.P(before.MeanIoU)}  RMSE {TrainingCli.F(before.Rmse)} m  latency {lat32:0.00} ms");
        Console.WriteLine($"test split {precision}: mIoU {TrainingCli.P(after.MeanIoU)}  RMSE {TrainingCli.F(after.Rmse)} m  latency {latNew:0.00} " +
            $"ms");
        Console.WriteLine($"change: mIoU {Signed((after.MeanIoU - before.MeanIoU) * 100, 2)} points, RMSE {Signed(after.Rmse - before.Rmse, 4)} m, " +
            $"speed-up {lat32 / latNew:0.00}x (ONNX Runtime CPU)");
        var card = Path.ChangeExtension(outPath, ".md");
        AtomicFile.Write(card, Card(Path.GetFileName(outPath), inputPath, precision, before, after, lat32, latNew, floatBytes.Length, bytes.Length,
            calibrationFrames, seed, command
            ?? $"./rtmtl export --onnx {inputPath} --precision {precision} --out {outPath}"));
        Console.WriteLine($"wrote {card}");
        return 0;
    }

    /// <summary>+0.12 / -0.12 / 0.00 (no "-0.00" for a change that rounds to nothing).</summary>
    internal static string Signed(double v, int digits)
    {
        var r = Math.Round(v, digits);
        var text = Math.Abs(r).ToString("F" + digits, CultureInfo.InvariantCulture);
        return r > 0 ? "+" + text : r < 0 ? "-" + text : text;
    }

    private static string UnevaluatedCard(string file, string source, string precision, string dataset, string command) => $"""
        # {file}: {(precision == "int8" ? "INT8 (QDQ)" : "FP16")} version of {Path.GetFileName(source)}

        Converted from a model trained on {dataset}, without evaluation (the test split here is the synthetic world, or
        --no-eval was given): no metrics are claimed for this file. The contract is unchanged.

        Produced by:
        ```
        {command}
        ```
        """;

    private static string Card(string file, string source, string precision, EvalResult before, EvalResult after, double lat32, double latNew,
        long size32, long sizeNew, int calibrationFrames, int seed, string command)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# {file}: {(precision == "int8" ? "INT8 (QDQ)" : "FP16")} version of {Path.GetFileName(source)}");
        sb.AppendLine();
        sb.AppendLine(precision == "int8"
            ? $"Static INT8 quantization in QDQ form for CPUs: int8 per-channel symmetric weights, uint8 per-tensor activations calibrated on " +
                $"{calibrationFrames} synthetic training frames (seed {seed}, min/max moving average), int32 biases. ONNX Runtime fuses the pairs " +
                    $"into QLinearConv / QLinearAdd."
            : "FP16 for GPUs: the network between normalisation and the heads computes in float16 (weights stored as float16); the uint8 input, " +
                "argmax, confidence and depth clip stay float32, so the engine's contract is unchanged. ONNX Runtime's CPU provider has few " +
                    "float16 kernels and inserts casts, so the CPU figure below is not the point of this file; it was not timed on a GPU here (no " +
                        "GPU on this machine).");
        sb.AppendLine();
        sb.AppendLine("Produced by:");
        sb.AppendLine("```");
        sb.AppendLine(command);
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine($"## Test split ({after.Samples} synthetic stills, ONNX Runtime CPU, same run)");
        sb.AppendLine();
        sb.AppendLine("| | mIoU | pixel acc. | RMSE (m) | log RMSE | abs rel | delta<1.25 | median latency (ms) | file (MiB) |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
        string Row(string name, EvalResult r, double lat, long size) =>
            $"| {name} | {TrainingCli.P(r.MeanIoU)} | {TrainingCli.P(r.PixelAccuracy)} | {TrainingCli.F(r.Rmse)} | {TrainingCli.F(r.LogRmse)} | " +
                $"{TrainingCli.F(r.AbsRel)} | {TrainingCli.P(r.Delta1)} | {lat:0.00} | {size / 1048576.0:0.00} |";
        sb.AppendLine(Row("fp32 (" + Path.GetFileName(source) + ")", before, lat32, size32));
        sb.AppendLine(Row(precision + " (this file)", after, latNew, sizeNew));
        sb.AppendLine();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Change: mIoU {Signed((after.MeanIoU - before.MeanIoU) * 100, 2)} points, RMSE {Signed(after.Rmse - before.Rmse, 4)} m, CPU speed-up " +
                $"{lat32 / latNew:0.00}x (median of up to 30 runs within 10 s, averaged over 3 interleaved rounds, batch 1, 2 cores)."));
        sb.AppendLine();
        sb.AppendLine("## Contract");
        sb.AppendLine("Unchanged: input `image` uint8 [N,H,W,3] BGR; outputs `labels` uint8, `depth` float32 metres, `confidence` float32; " +
            "metadata `rtmtl.*` plus `rtmtl.precision`.");
        return sb.ToString();
    }
}
