using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using RealtimeMtl.Cli.Bench;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// rtmtl eval: the one entry for both kinds of evaluation, chosen by the parsed options (so --video=FILE and @file work):
///   --video FILE          label-free quality on footage, here in the engine (<see cref="EvalVideoCommand"/>);
///   --run DIR | --onnx F  metrics on a labelled split, in rtmtl-train (LibTorch lives there): the same arguments are
///                         handed to it in a child process, whose output and exit code are this command's.
/// </summary>
internal static partial class EvalCommand
{
    public static Command Build()
    {
        // Video mode (the engine).
        var video = new Option<string?>("--video")
        {
            Description = "Video mode: a video file (or any source spec) to measure without labels",
            HelpName = "FILE"
        };
        var model = new Option<string?>("--model", "-m") { Description = "Video mode: the ONNX model (default: the shipped model)" };
        var maxFrames = new Option<int>("--max-frames") { Description = "Video mode: stop after N frames", DefaultValueFactory = _ => 300 };
        var smooth = new Option<string?>("--smooth")
        {
            Description = "Video mode: measure with the engine's temporal fusion on (flow, the default, or hysteresis)",
            Arity = ArgumentArity.ZeroOrOne, HelpName = "flow|hysteresis|off",
        };
        // Labelled mode (rtmtl-train): declared here so that help and parse errors cover them; their values are checked there.
        var run = new Option<string?>("--run") { Description = "Labelled mode: a training run's folder (e.g. runs/train/latest)", HelpName = "DIR" };
        var onnx = new Option<string?>("--onnx")
        {
            Description = "Labelled mode: an ONNX model in the engine's contract, run with ONNX Runtime",
            HelpName = "FILE"
        };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Labelled mode: checkpoint of --run (default: the run's best.pt)" };
        var split = new Option<string?>("--split") { Description = "Labelled mode: val or test (default test)" };
        var dataset = new Option<string?>("--dataset")
        {
            Description = "Labelled mode: synthetic, synthetic-dr, nyu-mat, nyu, sunrgbd (with --data)"
        };
        var data = new Option<string?>("--data") { Description = "Labelled mode: path of the data set for nyu-mat, nyu, sunrgbd" };
        var samples = new Option<int?>("--samples") { Description = "Labelled mode: synthetic split size (default 200)" };
        var seed = new Option<int?>("--seed") { Description = "Labelled mode: seed of the synthetic split" };
        var json = new Option<string?>("--json") { Description = "Both modes: also write the figures as JSON here" };
        var labelled = new Option[] { run, onnx, checkpoint, split, dataset, data, samples, seed };
        var videoOnly = new Option[] { model, maxFrames, smooth };
        var cmd = new Command("eval", """
            Evaluate a model, in one of two modes:
              --video FILE         label-free quality on real footage, where no ground truth exists: temporal label
                                   flicker (share of pixels that change class between frames), depth stability (median
                                   relative change per frame), class histogram and depth percentiles; flicker along
                                   the optical flow (the change left after following the motion: noise, not motion);
                                   on a source with ground truth (synthetic) mIoU, RMSE and the label error within
                                   3 px of object boundaries. Compare --smooth off, --smooth and --smooth hysteresis.
              --run DIR | --onnx F metrics on a labelled split: mIoU, pixel accuracy, RMSE, log RMSE, abs rel,
                                   delta<1.25, and the trivial baselines (runs in rtmtl-train, which ./rtmtl builds).
            Examples:
              ./rtmtl eval --video street.mp4 --max-frames 300 --json out/street.json
              ./rtmtl eval --video street.mp4 --smooth
              ./rtmtl eval --onnx models/mtl_ssw_light.onnx --dataset synthetic-dr
              ./rtmtl eval --run runs/train/latest --split test
            """) { video, model, maxFrames, smooth, run, onnx, checkpoint, split, dataset, data, samples, seed, json };
        cmd.Validators.Add(r =>
        {
            var given = (Option o) => r.GetResult(o) is { Implicit: false };
            var isVideo = given(video);
            var isLabelled = given(run) || given(onnx);
            if (isVideo && isLabelled) r.AddError("give --video FILE (footage) or --run DIR / --onnx FILE (a labelled split), not both");
            else if (!isVideo && !isLabelled) r.AddError("say what to evaluate: --video FILE (footage), --run DIR (a training run) or --onnx FILE " +
                "(a model on a labelled split)");
            else if (isVideo && labelled.FirstOrDefault(given) is { } l)
                r.AddError($"{l.Name} belongs to the labelled mode (--run/--onnx), not to --video");
            else if (isLabelled && videoOnly.FirstOrDefault(given) is { } v)
                r.AddError($"{v.Name} belongs to --video, not to the labelled mode (--run/--onnx)");
        });
        cmd.SetAction(async (r, ct) =>
        {
            if (r.GetValue(video) is not { } footage) return Labelled(r);
            try
            {
                if (r.GetValue(maxFrames) < 2) throw new ArgumentException("--max-frames must be at least 2 (flicker compares consecutive frames)");
                var (code, result) = await EvalVideoCommand.RunAsync(footage, r.GetValue(model) ?? DefaultModel.Path(), r.GetValue(maxFrames),
                    r.GetResult(smooth) is { Implicit: false } ? SmoothModes.Parse(r.GetValue(smooth)) : SmoothMode.Off, Console.Error, ct);
                if (result is null) return code;
                Console.WriteLine(result.ToText());
                if (r.GetValue(json) is { } path)
                {
                    // The engine's JSON style: schema_version first, snake_case names.
                    var doc = new System.Text.Json.Nodes.JsonObject { ["schema_version"] = 1 };
                    foreach (var (k, v) in JsonSerializer.SerializeToNode(result,
                        RealtimeMtl.Cli.Composition.RunSummary.JsonOptions)!.AsObject().ToList()) doc[k] = v?.DeepClone();
                    AtomicFile.Write(path, doc.ToJsonString(RealtimeMtl.Cli.Composition.RunSummary.JsonOptions));
                }
                return 0;
            }
            catch (Exception e) when (e is SourceException or ModelContractException or ArgumentException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }

    /// <summary>Hands the parsed arguments to <c>rtmtl-train eval</c> and returns its exit code; Ctrl+C reaches both, the child decides.</summary>
    private static int Labelled(ParseResult r)
    {
        if (TorchEagerPeer.FindTrainer() is not { } trainer)
        {
            Console.Error.WriteLine("error: eval --run/--onnx runs in rtmtl-train, which is not built here: run ./rtmtl build (or use ./rtmtl " +
                "eval, which builds it)");
            return 2;
        }
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        psi.ArgumentList.Add(trainer);
        psi.ArgumentList.Add("eval");
        // The tokens as parsed (a response file is already expanded): everything after the command's own name.
        foreach (var t in r.Tokens.SkipWhile(t => t.Type != TokenType.Command || t.Value != "eval").Skip(1)) psi.ArgumentList.Add(t.Value);
        // The terminal's Ctrl+C reaches the child too; this process waits for it instead of dying first.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var child = Process.Start(psi)!;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            try { Syscall.Kill(child.Id, 15); } catch (InvalidOperationException) { }
        });
        child.WaitForExit();
        return child.ExitCode;
    }

    private static partial class Syscall
    {
        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);
    }
}
