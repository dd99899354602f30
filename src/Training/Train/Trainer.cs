using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
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
    private readonly TextWriter _log;
    private readonly CancellationToken _stop;

    /// <param name="stop">Ctrl+C: the trainer saves a resumable checkpoint at the next iteration and throws <see cref="TrainingInterruptedException"/>.</param>
    public Trainer(TrainOptions options, TextWriter? log = null, CancellationToken stop = default)
    {
        _o = options;
        _log = log ?? Console.Error;
        _stop = stop;
    }

    public sealed record Result(EvalResult Best, int BestEpoch, IReadOnlyList<double> EpochLosses, string CheckpointPath, ModelConfig Config, double SecondsPerIteration);

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
        throw new ArgumentException($"--pretrained '{o.Pretrained}': ImageNet weights exist here only for resnet18 and resnet18-slim; use --pretrained none with {ModelConfig.BackboneName(c.Backbone)}");
    }

    /// <summary>Called once the run folder exists (inputs checked), before the long work.</summary>
    public Action<string>? FolderReady { get; init; }

    public Result Run()
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
        _log.WriteLine($"training {config.ArchitectureName} ({ModelConfig.BackboneName(config.Backbone)}, {config.InputWidth}x{config.InputHeight}) on {train.Name}: {trainCount} train / {valCount} val samples, device {device.type}, {get_num_threads()} threads");
        if (train is SyntheticDataset st)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, trainCount, i => st.Get(i));
            if (val is SyntheticDataset sv) Parallel.For(0, valCount, i => sv.Get(i));
            _log.WriteLine($"rendered {trainCount + valCount} samples in {sw.Elapsed.TotalSeconds:0.0} s");
        }

        var net = new MtlNet(config);
        if (config.ImageNetTopology && !(_o.Resume && File.Exists(Path.Combine(_o.OutDir, "last.pt"))))
        {
            var path = _o.Pretrained.Equals("imagenet", StringComparison.OrdinalIgnoreCase) ? null : _o.Pretrained;
            var n = net.LoadImageNetBackbone(path);
            _log.WriteLine($"backbone: ImageNet ResNet-18 ({n} tensors from {path ?? ImageNetResNet18.DefaultPath()}); --pretrained none trains from scratch");
        }
        File.WriteAllText(Path.Combine(_o.OutDir, "config.json"), JsonSerializer.Serialize(new RunManifest(config, _o), RunManifest.Json));
        var lastPath = Path.Combine(_o.OutDir, "last.pt");
        var bestPath = Path.Combine(_o.OutDir, "best.pt");
        var statePath = Path.Combine(_o.OutDir, "state.json");
        var startEpoch = 0;
        var best = new EvalResult(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
        var bestEpoch = -1;
        if (_o.Resume && File.Exists(lastPath) && File.Exists(statePath))
        {
            net.load(lastPath);
            var state = JsonSerializer.Deserialize<RunState>(File.ReadAllText(statePath), JsonLines)!;
            startEpoch = state.EpochsDone;
            bestEpoch = state.BestEpoch;
            best = state.Best ?? best;
            _log.WriteLine($"resumed from {lastPath} after epoch {startEpoch} (optimizer moments restart)");
        }
        net.to(device);

        optim.Optimizer optimizer = _o.Optimizer == OptimizerKind.Adam
            ? optim.Adam(net.parameters(), _o.LearningRate, weight_decay: _o.WeightDecay)
            : optim.SGD(net.parameters(), _o.LearningRate, momentum: _o.Momentum, weight_decay: _o.WeightDecay);
        var itersPerEpoch = (trainCount + _o.BatchSize - 1) / _o.BatchSize;
        var totalIters = Math.Max(1, _o.Epochs * itersPerEpoch);
        var rng = new Random(_o.Seed);
        var augment = _o.Augment ? new Augmentation() : Augmentation.None;
        var losses = new List<double>();
        using var logFile = new StreamWriter(Path.Combine(_o.OutDir, "log.jsonl"), append: _o.Resume);
        var timer = Stopwatch.StartNew();
        var itersDone = 0;

        for (var epoch = startEpoch; epoch < _o.Epochs; epoch++)
        {
            net.train();
            var order = Enumerable.Range(0, trainCount).OrderBy(_ => rng.Next()).ToArray();
            double epochLoss = 0, epochSeg = 0, epochDepth = 0;
            var epochTimer = Stopwatch.StartNew();
            for (var it = 0; it < itersPerEpoch; it++)
            {
                var globalIter = epoch * itersPerEpoch + it;
                var lr = _o.LearningRate * Math.Pow(1 - (double)globalIter / totalIters, _o.PolyPower);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                var idx = order.Skip(it * _o.BatchSize).Take(_o.BatchSize).ToArray();
                if (idx.Length == 0) break;
                if (_stop.IsCancellationRequested)
                {
                    // The weights so far become last.pt; the interrupted epoch starts again on --resume.
                    if (!Console.IsErrorRedirected && !_o.Quiet) _log.WriteLine();
                    net.save(lastPath);
                    File.WriteAllText(statePath, JsonSerializer.Serialize(new RunState(epoch, bestEpoch, best), JsonLines));
                    logFile.WriteLine(JsonSerializer.Serialize(new { type = "interrupted", epoch = epoch + 1, iter = globalIter }, JsonLines));
                    logFile.Flush();
                    throw new TrainingInterruptedException(_o.OutDir, epoch, _o.Epochs);
                }
                double loss, segLoss, depthLoss;
                using (var scope = NewDisposeScope())
                {
                    var samples = idx.Select(i => augment.Apply(train.Get(i), rng)).ToList();
                    var batch = Batch.From(samples, device);
                    optimizer.zero_grad();
                    var (logits, depth) = net.forward(batch.Image);
                    var total = zeros(1, device: device);
                    segLoss = depthLoss = 0;
                    if (config.HasSegmentation)
                    {
                        var ce = functional.cross_entropy(logits, batch.Labels, ignore_index: 255);
                        total = total + ce * _o.SegWeight;
                        segLoss = ce.item<float>();
                    }
                    if (config.HasDepth)
                    {
                        var valid = batch.Depth.gt(0).to_type(ScalarType.Float32);
                        var l1 = ((depth - batch.Depth).abs() * valid).sum() / valid.sum().clamp_min(1);
                        total = total + l1 * _o.DepthWeight;
                        depthLoss = l1.item<float>();
                    }
                    total.backward();
                    optimizer.step();
                    loss = total.item<float>();
                }
                epochLoss += loss; epochSeg += segLoss; epochDepth += depthLoss;
                itersDone++;
                Progress(epoch, it + 1, itersPerEpoch, epochLoss / (it + 1), epochSeg / (it + 1), epochDepth / (it + 1), itersDone / timer.Elapsed.TotalSeconds,
                    (totalIters - globalIter - 1) * (timer.Elapsed.TotalSeconds / itersDone));
                logFile.WriteLine(JsonSerializer.Serialize(new { type = "iter", epoch = epoch + 1, iter = globalIter + 1, loss, seg_loss = segLoss, depth_loss = depthLoss, lr }, JsonLines));
            }
            if (!Console.IsErrorRedirected && !_o.Quiet) _log.WriteLine();
            var meanLoss = epochLoss / itersPerEpoch;
            losses.Add(meanLoss);
            var eval = Evaluator.Evaluate(net, val, device, _o.BatchSize, valCount);
            var improved = bestEpoch < 0 || eval.Score > best.Score;
            net.save(lastPath);
            if (improved) { best = eval; bestEpoch = epoch + 1; net.save(bestPath); }
            File.WriteAllText(statePath, JsonSerializer.Serialize(new RunState(epoch + 1, bestEpoch, best), JsonLines));
            logFile.WriteLine(JsonSerializer.Serialize(new { type = "epoch", epoch = epoch + 1, loss = meanLoss, seconds = epochTimer.Elapsed.TotalSeconds, val = eval.ToDictionary(), best = improved }, JsonLines));
            logFile.Flush();
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch + 1}/{_o.Epochs}: loss {meanLoss:0.0000}  val mIoU {eval.MeanIoU:P2}  pixacc {eval.PixelAccuracy:P2}  RMSE {eval.Rmse:0.0000} m  logRMSE {eval.LogRmse:0.0000}  absrel {eval.AbsRel:0.0000}  d1 {eval.Delta1:P2}{(improved ? "  (best)" : "")}  [{epochTimer.Elapsed.TotalSeconds:0} s]"));
        }
        var secPerIt = itersDone > 0 ? timer.Elapsed.TotalSeconds / itersDone : double.NaN;
        return new Result(best, bestEpoch, losses, File.Exists(bestPath) ? bestPath : lastPath, config, secPerIt);
    }

    /// <summary>NaN metrics (a task the model does not have) are written as "NaN", not refused.</summary>
    public static readonly JsonSerializerOptions JsonLines = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private DateTime _lastProgress;

    private void Progress(int epoch, int iter, int iters, double loss, double seg, double depth, double itPerSec, double etaSeconds)
    {
        if (_o.Quiet) return;
        var redirected = Console.IsErrorRedirected;
        if (redirected && iter != iters && DateTime.UtcNow - _lastProgress < TimeSpan.FromSeconds(30)) return;
        _lastProgress = DateTime.UtcNow;
        const int width = 24;
        var filled = (int)(width * iter / (double)iters);
        var eta = TimeSpan.FromSeconds(double.IsFinite(etaSeconds) ? etaSeconds : 0);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch + 1}/{_o.Epochs} [{new string('#', filled)}{new string('.', width - filled)}] {iter}/{iters} loss {loss:0.000} (seg {seg:0.000}, depth {depth:0.000}) {itPerSec:0.00} it/s ETA {(int)eta.TotalHours:00}:{eta.Minutes:00}:{eta.Seconds:00}");
        if (redirected) _log.WriteLine(line);
        else _log.Write("\r" + line);
    }
}

public sealed record RunState(int EpochsDone, int BestEpoch, EvalResult? Best);

/// <summary>What a run directory records about how it was trained (config.json).</summary>
public sealed record RunManifest(ModelConfig Config, TrainOptions Options)
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
}
