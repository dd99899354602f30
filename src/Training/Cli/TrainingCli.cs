using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

/// <summary>rtmtl-train: train, eval, export, ablate, synth.</summary>
public static class TrainingCli
{
    /// <summary>Ctrl+C / SIGTERM during training: set once; the trainer checkpoints and stops.</summary>
    internal static CancellationToken Stop => Interrupt.Token;
    private static readonly CancellationTokenSource Interrupt = new();

    public static int Run(string[] args)
    {
        var verbose = args.Contains("--verbose");
        // Named rtmtl, not after this executable: users reach these commands through the rtmtl script, and the
        // usage lines of --help say so ("rtmtl train [options]").
        var root = new Command("rtmtl", "rtmtl training commands: train, evaluate and export the MTL_SSW family (joint semantic segmentation and " +
            "depth) with TorchSharp.")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
            TrainCommand.Build(),
            EvalCommand.Build(),
            ExportCommand.Build(),
            AblateCommand.Build(),
            SynthCommand.Build(),
            ImportCommand.Build(),
            DataCommand.Build(),
            Bench.EagerBenchCommand.Build(),
            OneDnnCommand.Build(),
        };
        root.Options.Add(new Option<bool>("--verbose") { Description = "Show the stack trace of an unexpected error", Recursive = true });
        try { args = Common.Commands.ResponseFiles.Expand(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0) return Common.Commands.CommandLineRules.ParseError(Console.Error, parse.Errors[0].Message, CommandPath(parse));
        if (Common.Commands.CommandLineRules.CheckArgsOnly) return 0;
        using var stop = new Common.Commands.TwoStageStop(Console.Error,
            "stopping: saving a checkpoint at the next step (press Ctrl+C again to exit at once)", Interrupt.Cancel);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (TrainingInterruptedException e)
        {
            Console.Error.WriteLine($"interrupted: {e.Message} (epoch {e.EpochsDone + 1} starts again on resume)");
            Console.Error.WriteLine($"resume with: {ResumeCommand(args, e.RunDir)}");
            return 130;
        }
        catch (Exception e) when (UserError(e) is { } message)
        {
            Console.Error.WriteLine($"error: {message}");
            return 2;
        }
        catch (Exception e)
        {
            // A bug, not a bad input: the trace is there for whoever reports it.
            if (verbose) Console.Error.WriteLine(e.ToString());
            else Console.Error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message.Split('\n')[0]} (a bug; run again with --verbose for " +
                $"the stack trace)");
            return 1;
        }
    }

    /// <summary>Errors a user can cause and fix: bad options, missing or unreadable inputs, unwritable outputs.</summary>
    internal static string? UserError(Exception e) => e switch
    {
        ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException => e.Message,
        UnauthorizedAccessException => $"{e.Message.TrimEnd('.')} (permission denied); choose another path.",
        IOException io when io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
            => $"{io.Message.TrimEnd('.')}; free some space or write somewhere else.",
        IOException io when io.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase)
            => $"{io.Message.TrimEnd('.')}; write somewhere else.",
        _ => null,
    };

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            if (c.Parent is not null) names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }

    internal static string ResumeCommand(string[] args, string? runDir = null)
    {
        static string Quote(string a) => a.Length > 0 && a.All(ch => char.IsLetterOrDigit(ch) || "-_./,:=+@%".Contains(ch)) ? a
            : $"'{a.Replace("'", "'\\''")}'";
        var parts = args.Select(Quote).ToList();
        // A run in a numbered folder resumes there, not in a new one.
        if (runDir is not null && !args.Contains("--out") && args.FirstOrDefault() == "train") { parts.Add("--out"); parts.Add(Quote(runDir)); }
        if (!args.Contains("--resume")) parts.Add("--resume");
        return "./rtmtl " + string.Join(' ', parts);
    }

    internal static string F(double v, string format = "0.0000") => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);
    internal static string P(double v) => double.IsNaN(v) ? "-" : (v * 100).ToString("0.00", CultureInfo.InvariantCulture) + " %";
}

/// <summary>The options shared by train, eval and ablate.</summary>
internal sealed class TrainOptionSet
{
    public readonly Option<string> Arch = new("--arch")
    {
        Description = "Architecture: " + string.Join(", ", Models.ModelConfig.AllNames),
        DefaultValueFactory = _ => "mtl_ssw"
    };
    public readonly Option<string> Backbone = new("--backbone")
    {
        Description =
        "Backbone: resnet18-slim (light, real time on a CPU), resnet18, resnet34, resnet50", DefaultValueFactory = _ => "resnet18-slim"
    };
    public readonly Option<string> Size = new("--size")
    {
        Description =
        "light (256x192, output stride 32, 96-channel heads, skip decoder) or paper (ResNet-50 dilated OS 8, ASPP 256 / PP 512, 640x480)",
        DefaultValueFactory = _ => "light"
    };
    public readonly Option<string> Dataset = new("--dataset")
    {
        Description =
        "synthetic (the classic built-in world), synthetic-dr (the domain-randomised world: random textures, lights, soft shadows, camera and lens " +
            "effects; for models meant for real cameras), nyu-mat (nyu_depth_v2_labeled.mat), nyu (folder), sunrgbd (folder)", DefaultValueFactory = _
                => "synthetic"
    };
    public readonly Option<string?> Data = new("--data") { Description = "Path of the data set for nyu-mat / nyu / sunrgbd" };
    public readonly Option<int> Epochs = new("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => 10 };
    public readonly Option<int> Batch = new("--batch") { Description = "Batch size", DefaultValueFactory = _ => 8 };
    public readonly Option<double> Lr = new("--lr")
    {
        Description = "Initial learning rate (poly decay, power 0.9)", DefaultValueFactory = _
        => 1e-3
    };
    public readonly Option<string> Optimizer = new("--optimizer") { Description = "adam or sgd (momentum 0.9)", DefaultValueFactory = _ => "adam" };
    public readonly Option<double> WeightDecay = new("--weight-decay") { Description = "Weight decay", DefaultValueFactory = _ => 1e-4 };
    public readonly Option<double> SegWeight = new("--seg-weight")
    {
        Description = "Weight of the segmentation loss (cross-entropy)",
        DefaultValueFactory = _ => 1.0
    };
    public readonly Option<double> DepthWeight = new("--depth-weight")
    {
        Description = "Weight of the depth loss (L1 on valid pixels)",
        DefaultValueFactory = _ => 1.0
    };
    public readonly Option<int> Seed = new("--seed")
    {
        Description = "Seed of weights, data order, augmentation and the synthetic split",
        DefaultValueFactory = _ => 1
    };
    public readonly Option<int> Threads = new("--threads")
    {
        Description = "LibTorch CPU threads (0 = LibTorch default)", DefaultValueFactory = _
        => 0
    };
    public readonly Option<int?> Limit = new("--limit") { Description = "Use at most N training samples (and N/4 validation samples): quick runs" };
    public readonly Option<int> TrainSamples = new("--train-samples")
    {
        Description = "Synthetic training set size", DefaultValueFactory = _
        => 2000
    };
    public readonly Option<int> ValSamples = new("--val-samples")
    {
        Description = "Synthetic validation/test set size", DefaultValueFactory = _
        => 200
    };
    public readonly Option<string?> Input = new("--input-size")
    {
        Description =
        "Network input WxH, multiples of 32 (default: 256x192 light, 640x480 paper)"
    };
    public readonly Option<string?> Out = new("--out")
    {
        Description =
        "Run directory (config.json, log.jsonl, last.pt, best.pt); default: a new runs/train/train-N (ablate: runs/ablation), with " +
            "runs/train/latest linked to it"
    };
    public readonly Option<bool> Resume = new("--resume") { Description = "Continue from the run directory's last checkpoint" };
    public readonly Option<string> Device = new("--device")
    {
        Description = "cpu, cuda or auto (CUDA needs the GPU build: -p:RtmtlGpu=true)",
        DefaultValueFactory = _ => "auto"
    };
    public readonly Option<bool> NoAugment = new("--no-augment") { Description = "Disable zoom/flip/colour augmentation" };
    public readonly Option<string> SwInit = new("--sw-init")
    {
        Description = "Selective-weights initialisation self,cross (paper's best: 0.9,0.1)",
        DefaultValueFactory = _ => "0.9,0.1"
    };
    public readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "No progress bar" };
    public readonly Option<string> Pretrained = new("--pretrained")
    {
        Description =
        "Backbone start: imagenet (the ImageNet ResNet-18 restored from NuGet; default for resnet18 and resnet18-slim), none (from scratch), or " +
            "the path of that ResNet18.onnx", DefaultValueFactory = _ => "imagenet"
    };

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { Arch, Backbone, Size, Dataset, Data, Epochs, Batch, Lr, Optimizer, WeightDecay, SegWeight, DepthWeight, Seed,
            Threads, Limit, TrainSamples, ValSamples, Input, Out, Resume, Device, NoAugment, SwInit, Quiet, Pretrained })
            c.Options.Add(o);
    }

    public TrainOptions Read(ParseResult r)
    {
        int? iw = null, ih = null;
        if (r.GetValue(Input) is { } size)
        {
            var p = size.Split('x');
            if (p.Length != 2 || !int.TryParse(p[0], out var w) || !int.TryParse(p[1],
                out var h)) throw new ArgumentException($"--input-size '{size}' must look like 256x192");
            (iw, ih) = (w, h);
        }
        var sw = r.GetValue(SwInit)!.Split(',');
        if (sw.Length != 2 || !float.TryParse(sw[0], CultureInfo.InvariantCulture, out var self) || !float.TryParse(sw[1],
            CultureInfo.InvariantCulture, out var cross))
            throw new ArgumentException("--sw-init must look like 0.9,0.1");
        var epochs = r.GetValue(Epochs);
        if (epochs < 1) throw new ArgumentException("--epochs must be at least 1");
        if (r.GetValue(Batch) < 1) throw new ArgumentException("--batch must be at least 1");
        return new TrainOptions
        {
            Architecture = r.GetValue(Arch)!, Backbone = r.GetValue(Backbone)!, Size = r.GetValue(Size)!, Dataset = r.GetValue(Dataset)!,
            DataPath = r.GetValue(Data), Epochs = epochs, BatchSize = r.GetValue(Batch), LearningRate = r.GetValue(Lr),
            Optimizer = r.GetValue(Optimizer)!.ToLowerInvariant() switch
            {
                "adam" => OptimizerKind.Adam,
                "sgd" => OptimizerKind.Sgd,
                var x => throw new ArgumentException($"--optimizer '{x}': use adam or sgd")
            },
            WeightDecay = r.GetValue(WeightDecay), SegWeight = r.GetValue(SegWeight), DepthWeight = r.GetValue(DepthWeight), Seed = r.GetValue(Seed),
            Threads = r.GetValue(Threads), Limit = r.GetValue(Limit), TrainSamples = r.GetValue(TrainSamples), ValSamples = r.GetValue(ValSamples),
            InputWidth = iw, InputHeight = ih, OutDir = r.GetValue(Out) ?? "runs/ablation", Resume = r.GetValue(Resume), Device = r.GetValue(Device)!,
            Augment = !r.GetValue(NoAugment), SwSelf = self, SwCross = cross, Quiet = r.GetValue(Quiet), Pretrained = r.GetValue(Pretrained)!,
        };
    }
}

internal static class TrainCommand
{
    public static Command Build()
    {
        var set = new TrainOptionSet();
        var cmd = new Command("train", """
            Train a network of the MTL_SSW family and keep the best checkpoint.
            Examples:
              ./rtmtl train --arch mtl_ssw --backbone resnet18-slim --dataset synthetic --epochs 12
              ./rtmtl train --arch mtl_ssw --dataset synthetic --epochs 1 --limit 64        (a quick check)
              ./rtmtl train --arch mtl_spp --size paper --dataset nyu-mat --data nyu_depth_v2_labeled.mat --device cuda
            """);
        set.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var o = set.Read(r);
            var explicitOut = r.GetValue(set.Out) is not null;
            // Without --out, a new numbered folder (created once the inputs check out): an earlier run is never overwritten.
            if (o.Resume && !explicitOut)
                throw new ArgumentException("--resume continues a run: give its folder with --out (for example --out runs/train/train-3).");
            if (o.Resume && !File.Exists(Path.Combine(o.OutDir, "last.pt")))
                throw new ArgumentException($"--resume: '{o.OutDir}' holds no checkpoint (last.pt) to continue; leave --resume out to start a new " +
                    $"run there.");
            if (!explicitOut) o = o with { OutDir = RealtimeMtl.Common.Files.RunFolders.NextName("runs/train", "train") };
            else if (!o.Resume && File.Exists(Path.Combine(o.OutDir, "last.pt")))
                throw new ArgumentException($"--out '{o.OutDir}' holds an earlier run; continue it with --resume, or leave --out out for a new " +
                    $"runs/train/train-N folder.");
            var trainer = new Trainer(o, stop: TrainingCli.Stop)
            {
                FolderReady = dir =>
                {
                    if (!explicitOut && RealtimeMtl.Common.Files.RunFolders.UpdateLatest("runs/train",
                        dir)) Console.Error.WriteLine($"run folder: {dir} (runs/train/latest points to it)");
                },
            };
            var result = trainer.Run();
            Console.WriteLine($"best epoch {result.BestEpoch}: mIoU {TrainingCli.P(result.Best.MeanIoU)}, RMSE {TrainingCli.F(result.Best.Rmse)} " +
                $"m, checkpoint {result.CheckpointPath}");
            Console.WriteLine($"loss by epoch: {string.Join(" ", result.EpochLosses.Select(l => TrainingCli.F(l)))}");
            return 0;
        });
        return cmd;
    }
}
