using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Train;

/// <summary>
/// Trains one network: cross-entropy (ignore label 255) + L1 on valid depth, weighted per task; Adam or SGD with
/// momentum under a poly learning-rate schedule; evaluation every epoch with the best checkpoint kept; a JSON-lines
/// log; resume from the last checkpoint. Each batch runs inside a dispose scope so native memory stays flat.
/// </summary>
public sealed class Trainer
{
    private readonly TrainOptions _o;
    private readonly IEventLog _log;
    private readonly CancellationToken _stop;

    /// <param name="stop">Ctrl+C: the trainer saves a resumable checkpoint at the next iteration and throws <see
    /// cref="TrainingInterruptedException"/>.</param>
    public Trainer(TrainOptions options, IEventLog? log = null, CancellationToken stop = default)
    {
        _o = options;
        _log = log ?? TextEventLog.StandardError;
        _stop = stop;
    }

    public sealed record Result(EvalResult Best, int BestEpoch, IReadOnlyList<double> EpochLosses, string CheckpointPath, ModelConfig Config,
        double SecondsPerIteration);

    public static ModelConfig ConfigFor(TrainOptions o, int classes)
    {
        var variant = ModelConfig.ParseVariant(o.Architecture);
        var cfg = o.Size == "paper" ? ModelConfig.Paper(variant, classes) : ModelConfig.Light(variant, classes);
        cfg = cfg with { Backbone = ModelConfig.ParseBackbone(o.Backbone), SwSelf = o.SwSelf, SwCross = o.SwCross };
        cfg = cfg with { ImageNetTopology = UsesImageNet(o, cfg) };
        if (o.InputWidth is { } w) cfg = cfg with { InputWidth = w };
        if (o.InputHeight is { } h) cfg = cfg with { InputHeight = h };
        cfg.Validate();
        return cfg;
    }

    /// <summary>Whether the run starts its backbone from the ImageNet ResNet-18 (resnet18 kinds, unless --pretrained none).</summary>
    public static bool UsesImageNet(TrainOptions o, ModelConfig c)
    {
        if (o.Pretrained.Equals("none", StringComparison.OrdinalIgnoreCase)) return false;
        if (c.Backbone is BackboneKind.ResNet18 or BackboneKind.ResNet18Slim) return true;
        if (o.Pretrained.Equals("imagenet", StringComparison.OrdinalIgnoreCase)) return false; // the default: only where weights exist
        throw new ArgumentException($"--pretrained '{o.Pretrained}': ImageNet weights exist here only for resnet18 and resnet18-slim; use " +
            $"--pretrained none with {ModelConfig.BackboneName(c.Backbone)}");
    }

    /// <summary>Called once the run folder exists (inputs checked), before the long work.</summary>
    public Action<string>? FolderReady { get; init; }

    /// <summary>What one run works on, set up once: data, network, optimiser, checkpoint paths and progress so far.</summary>
    private sealed class RunContext
    {
        public required ModelConfig Config { get; init; }
        public required ISegDepthDataset Train { get; init; }
        public required ISegDepthDataset Val { get; init; }
        public required int TrainCount { get; init; }
        public required int ValCount { get; init; }
        public required Device Device { get; init; }
        public required MtlNet Net { get; init; }
        public optim.Optimizer Optimizer { get; set; } = null!;
        public StreamWriter Log { get; set; } = null!;
        public required int ItersPerEpoch { get; init; }
        public required int TotalIters { get; init; }
        public required Random Rng { get; init; }
        public required Augmentation Augment { get; init; }
        public Stopwatch Timer { get; } = Stopwatch.StartNew();
        public int ItersDone { get; set; }
        public int StartEpoch { get; set; }
        public EvalResult Best { get; set; } = new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
        public int BestEpoch { get; set; } = -1;
        public string LastPath => Path.Combine(OutDir, "last.pt");
        public string BestPath => Path.Combine(OutDir, "best.pt");
        public string StatePath => Path.Combine(OutDir, "state.json");
        public required string OutDir { get; init; }
    }

    /// <summary>Set up, then per epoch: train one epoch, evaluate, checkpoint (torchvision's reference split).</summary>
    public Result Run()
    {
        var run = Prepare();
        using var _ = run.Log;
        var losses = new List<double>();
        for (var epoch = run.StartEpoch; epoch < _o.Epochs; epoch++)
        {
            var epochTimer = Stopwatch.StartNew();
            var meanLoss = TrainOneEpoch(run, epoch);
            losses.Add(meanLoss);
            var eval = Evaluate(run);
            Checkpoint(run, epoch, meanLoss, eval, epochTimer.Elapsed.TotalSeconds);
        }
        var secPerIt = run.ItersDone > 0 ? run.Timer.Elapsed.TotalSeconds / run.ItersDone : double.NaN;
        return new Result(run.Best, run.BestEpoch, losses, File.Exists(run.BestPath) ? run.BestPath : run.LastPath, run.Config, secPerIt);
    }

    /// <summary>Data sets opened and checked, output folder made, network built (ImageNet backbone or resumed weights), optimiser.</summary>
    private RunContext Prepare()
    {
        if (_o.Threads > 0) set_num_threads(_o.Threads);
        var device = DeviceSelection.Select(_o.Device, _log);
        manual_seed(_o.Seed);

        var probe = DatasetFactory.Classes(_o);
        var config = ConfigFor(_o, probe);
        var train = DatasetFactory.Open(_o, Split.Train, config.InputWidth, config.InputHeight);
        var val = DatasetFactory.Open(_o, Split.Val, config.InputWidth, config.InputHeight);
        var trainCount = Math.Min(train.Count, _o.Limit ?? int.MaxValue);
        var valCount = Math.Min(val.Count, _o.Limit is { } l ? Math.Max(8, l / 4) : int.MaxValue);
        // After the inputs are known to open, before any long work: an unwritable --out fails now.
        Cli.OutputFolder.Ensure(_o.OutDir, "--out");
        FolderReady?.Invoke(_o.OutDir);
        _log.Info($"training {config.ArchitectureName} ({ModelConfig.BackboneName(config.Backbone)}, {config.InputWidth}x{config.InputHeight}) on " +
            $"{train.Name}: {trainCount} train / {valCount} val samples, device {device.type}, {get_num_threads()} threads");
        if (train is SyntheticDataset st)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, trainCount, i => st.Get(i));
            if (val is SyntheticDataset sv) Parallel.For(0, valCount, i => sv.Get(i));
            _log.Info($"rendered {trainCount + valCount} samples in {sw.Elapsed.TotalSeconds:0.0} s");
        }

        var net = new MtlNet(config);
        if (config.ImageNetTopology && !(_o.Resume && File.Exists(Path.Combine(_o.OutDir, "last.pt"))))
        {
            var path = _o.Pretrained.Equals("imagenet", StringComparison.OrdinalIgnoreCase) ? null : _o.Pretrained;
            var n = net.LoadImageNetBackbone(path);
            _log.Info($"backbone: ImageNet ResNet-18 ({n} tensors from {path ?? ImageNetResNet18.DefaultPath()}); --pretrained none trains from " +
                $"scratch");
        }
        AtomicFile.Write(Path.Combine(_o.OutDir, "config.json"), JsonSerializer.Serialize(new RunManifest(config, _o), RunManifest.Json));
        var itersPerEpoch = (trainCount + _o.BatchSize - 1) / _o.BatchSize;
        var run = new RunContext
        {
            Config = config, Train = train, Val = val, TrainCount = trainCount, ValCount = valCount, Device = device, Net = net, OutDir = _o.OutDir,
            ItersPerEpoch = itersPerEpoch, TotalIters = Math.Max(1, _o.Epochs * itersPerEpoch),
            Rng = new Random(_o.Seed), Augment = _o.Augment ? new Augmentation() : Augmentation.None,
        };
        if (_o.Resume && File.Exists(run.LastPath) && File.Exists(run.StatePath))
        {
            net.load(run.LastPath);
            var state = RunState.Read(File.ReadAllText(run.StatePath));
            run.StartEpoch = state.EpochsDone;
            run.BestEpoch = state.BestEpoch;
            run.Best = state.Best ?? run.Best;
            _log.Info($"resumed from {run.LastPath} after epoch {run.StartEpoch} (optimizer moments restart)");
        }
        net.to(device);
        run.Optimizer = _o.Optimizer == OptimizerKind.Adam
            ? optim.Adam(net.parameters(), _o.LearningRate, weight_decay: _o.WeightDecay)
            : optim.SGD(net.parameters(), _o.LearningRate, momentum: _o.Momentum, weight_decay: _o.WeightDecay);
        run.Log = new StreamWriter(Path.Combine(_o.OutDir, "log.jsonl"), append: _o.Resume);
        run.Timer.Restart();
        return run;
    }

    /// <summary>One pass over the shuffled training set with the poly learning-rate schedule; returns the mean loss.</summary>
    private double TrainOneEpoch(RunContext run, int epoch)
    {
        var net = run.Net;
        net.train();
        var order = Enumerable.Range(0, run.TrainCount).OrderBy(_ => run.Rng.Next()).ToArray();
        double epochLoss = 0, epochSeg = 0, epochDepth = 0;
        for (var it = 0; it < run.ItersPerEpoch; it++)
        {
            var globalIter = epoch * run.ItersPerEpoch + it;
            var lr = _o.LearningRate * Math.Pow(1 - (double)globalIter / run.TotalIters, _o.PolyPower);
            foreach (var group in run.Optimizer.ParamGroups) group.LearningRate = lr;
            var idx = order.Skip(it * _o.BatchSize).Take(_o.BatchSize).ToArray();
            if (idx.Length == 0) break;
            if (_stop.IsCancellationRequested)
            {
                // The weights so far become last.pt; the interrupted epoch starts again on --resume.
                _progress?.Interrupt();
                net.save(run.LastPath);
                AtomicFile.Write(run.StatePath, JsonSerializer.Serialize(new RunState(epoch, run.BestEpoch, run.Best), RunState.Json));
                run.Log.WriteLine(JsonSerializer.Serialize(new { type = "interrupted", epoch = epoch + 1, iter = globalIter }, JsonLines));
                run.Log.Flush();
                throw new TrainingInterruptedException(_o.OutDir, epoch, _o.Epochs);
            }
            var (loss, segLoss, depthLoss) = Step(run, idx);
            epochLoss += loss; epochSeg += segLoss; epochDepth += depthLoss;
            run.ItersDone++;
            Progress(epoch, it + 1, run.ItersPerEpoch, epochLoss / (it + 1), epochSeg / (it + 1), epochDepth / (it + 1), run.ItersDone
                / run.Timer.Elapsed.TotalSeconds,
                (run.TotalIters - globalIter - 1) * (run.Timer.Elapsed.TotalSeconds / run.ItersDone));
            run.Log.WriteLine(JsonSerializer.Serialize(new
            {
                type = "iter", epoch = epoch + 1, iter = globalIter + 1, loss, seg_loss = segLoss,
                depth_loss = depthLoss, lr
            }, JsonLines));
        }
        _progress?.Done();
        return epochLoss / run.ItersPerEpoch;
    }

    /// <summary>One optimiser step on a batch: cross-entropy (ignore 255) and masked L1 depth, weighted.</summary>
    private (double Loss, double Seg, double Depth) Step(RunContext run, int[] idx)
    {
        using var scope = NewDisposeScope();
        var samples = idx.Select(i => run.Augment.Apply(run.Train.Get(i), run.Rng)).ToList();
        var batch = Batch.From(samples, run.Device);
        run.Optimizer.zero_grad();
        var (logits, depth) = run.Net.forward(batch.Image);
        var total = zeros(1, device: run.Device);
        double segLoss = 0, depthLoss = 0;
        if (run.Config.HasSegmentation)
        {
            var ce = functional.cross_entropy(logits, batch.Labels, ignore_index: 255);
            total = total + ce * _o.SegWeight;
            segLoss = ce.item<float>();
        }
        if (run.Config.HasDepth)
        {
            var valid = batch.Depth.gt(0).to_type(ScalarType.Float32);
            var l1 = ((depth - batch.Depth).abs() * valid).sum() / valid.sum().clamp_min(1);
            total = total + l1 * _o.DepthWeight;
            depthLoss = l1.item<float>();
        }
        total.backward();
        run.Optimizer.step();
        return (total.item<float>(), segLoss, depthLoss);
    }

    private EvalResult Evaluate(RunContext run) => Evaluator.Evaluate(run.Net, run.Val, run.Device, _o.BatchSize, run.ValCount);

    /// <summary>last.pt always, best.pt when the validation score improved, state.json for --resume, and the epoch's log lines.</summary>
    private void Checkpoint(RunContext run, int epoch, double meanLoss, EvalResult eval, double seconds)
    {
        var improved = run.BestEpoch < 0 || eval.Score > run.Best.Score;
        run.Net.save(run.LastPath);
        if (improved) { run.Best = eval; run.BestEpoch = epoch + 1; run.Net.save(run.BestPath); }
        AtomicFile.Write(run.StatePath, JsonSerializer.Serialize(new RunState(epoch + 1, run.BestEpoch, run.Best), RunState.Json));
        run.Log.WriteLine(JsonSerializer.Serialize(new
        {
            type = "epoch", epoch = epoch + 1, loss = meanLoss, seconds, val = eval.ToDictionary(),
            best = improved
        }, JsonLines));
        run.Log.Flush();
        _log.Info(string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch + 1}/{_o.Epochs}: loss {meanLoss:0.0000}  val mIoU {eval.MeanIoU:P2}  pixacc {eval.PixelAccuracy:P2}  RMSE " +
                $"{eval.Rmse:0.0000} m  logRMSE {eval.LogRmse:0.0000}  absrel {eval.AbsRel:0.0000}  d1 " +
                    $"{eval.Delta1:P2}{(improved ? "  (best)" : "")}  [{seconds:0} s]"));
    }

    /// <summary>NaN metrics (a task the model does not have) are written as "NaN", not refused.</summary>
    public static readonly JsonSerializerOptions JsonLines = new()
    {
        NumberHandling =
        System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals
    };

    private RealtimeMtl.Common.Measuring.ProgressPrinter? _progress;

    private void Progress(int epoch, int iter, int iters, double loss, double seg, double depth, double itPerSec, double etaSeconds)
    {
        if (_o.Quiet) return;
        _progress ??= new RealtimeMtl.Common.Measuring.ProgressPrinter(Console.Error) { PlainEvery = TimeSpan.FromSeconds(30) };
        const int width = 24;
        var filled = (int)(width * iter / (double)iters);
        _progress.Show(() => string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch + 1}/{_o.Epochs} [{new string('#', filled)}{new string('.', width - filled)}] {iter}/{iters} loss {loss:0.000} (seg " +
                $"{seg:0.000}, depth {depth:0.000}) {itPerSec:0.00} it/s ETA {RealtimeMtl.Common.Measuring.ProgressLine.Eta(etaSeconds)}"),
            final: iter == iters);
    }
}

/// <summary>state.json: what --resume continues from (snake_case; runs written before it was are read too).</summary>
public sealed record RunState(int EpochsDone, int BestEpoch, EvalResult? Best)
{
    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public int SchemaVersion => 1;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = RealtimeMtl.Common.Files.JsonStyle.SnakeCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static RunState Read(string text) =>
        JsonSerializer.Deserialize<RunState>(text, text.Contains("\"EpochsDone\"", StringComparison.Ordinal) ? Trainer.JsonLines : Json)
        ?? throw new InvalidDataException("state.json is empty");
}

/// <summary>What a run directory records about how it was trained (config.json: snake_case, with schema_version).</summary>
public sealed record RunManifest(ModelConfig Config, TrainOptions Options)
{
    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public int SchemaVersion => 1;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = RealtimeMtl.Common.Files.JsonStyle.SnakeCase,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>The PascalCase config.json of runs trained before the names became snake_case.</summary>
    private static readonly JsonSerializerOptions Legacy = new() { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static RunManifest? Read(string text) =>
        JsonSerializer.Deserialize<RunManifest>(text, text.Contains("\"Config\"", StringComparison.Ordinal) ? Legacy : Json);
}
