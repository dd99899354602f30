using RealtimeMtl.Quality;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Models;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Train;

/// <summary>Metrics of one evaluation: mIoU and pixel accuracy over the label set, depth errors pooled over valid pixels.</summary>
public sealed record EvalResult(double MeanIoU, double PixelAccuracy, double Rmse, double LogRmse, double AbsRel, double Delta1, int Samples)
{
    /// <summary>Model selection score: mIoU + delta&lt;1.25 (either term counts 0 when its task is absent).</summary>
    public double Score => (double.IsNaN(MeanIoU) ? 0 : MeanIoU) + (double.IsNaN(Delta1) ? 0 : Delta1);

    public Dictionary<string, double> ToDictionary() => new()
    {
        ["miou"] = MeanIoU, ["pixel_acc"] = PixelAccuracy, ["rmse"] = Rmse, ["log_rmse"] = LogRmse, ["abs_rel"] = AbsRel, ["delta1"] = Delta1,
    };
}

public static class Evaluator
{
    public static EvalResult Evaluate(MtlNet net, ISegDepthDataset data, Device device, int batchSize = 8, int? limit = null)
    {
        net.eval();
        var c = net.Config;
        var seg = new SegmentationMetrics(c.NumClasses);
        var depth = new DepthMetrics();
        var n = Math.Min(data.Count, limit ?? int.MaxValue);
        using var _ = no_grad();
        for (var start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var samples = Enumerable.Range(start, Math.Min(batchSize, n - start)).Select(data.Get).ToList();
            var batch = Batch.From(samples, device);
            var (logits, d) = net.forward(batch.Image);
            var pixels = c.InputWidth * c.InputHeight;
            byte[]? labels = c.HasSegmentation ? logits.argmax(1).to_type(ScalarType.Byte).cpu().data<byte>().ToArray() : null;
            float[]? depthPred = c.HasDepth ? d.clamp(0, c.MaxDepth).cpu().data<float>().ToArray() : null;
            for (var i = 0; i < samples.Count; i++)
            {
                if (labels is not null) seg.Add(samples[i].Labels, labels.AsSpan(i * pixels, pixels));
                if (depthPred is not null) depth.Add(samples[i].Depth, depthPred.AsSpan(i * pixels, pixels));
            }
        }
        return new EvalResult(
            c.HasSegmentation ? seg.MeanIoU : double.NaN, c.HasSegmentation ? seg.PixelAccuracy : double.NaN,
            c.HasDepth ? depth.Rmse : double.NaN, c.HasDepth ? depth.LogRmse : double.NaN,
            c.HasDepth ? depth.AbsRel : double.NaN, c.HasDepth ? depth.Delta1 : double.NaN, n);
    }

    /// <summary>Trivial baselines on a split: predict the majority training class everywhere; predict the mean training depth everywhere.</summary>
    public static (EvalResult Majority, int MajorityClass, double MeanDepth) Baselines(ISegDepthDataset train, ISegDepthDataset test, int classes,
        int? limit = null)
    {
        var counts = new long[classes];
        double sum = 0; long valid = 0;
        for (var i = 0; i < Math.Min(train.Count, limit ?? int.MaxValue); i++)
        {
            var s = train.Get(i);
            foreach (var l in s.Labels) if (l < classes) counts[l]++;
            foreach (var d in s.Depth) if (d > 0) { sum += d; valid++; }
        }
        var majority = Array.IndexOf(counts, counts.Max());
        var mean = sum / Math.Max(1, valid);
        var seg = new SegmentationMetrics(classes);
        var depth = new DepthMetrics();
        for (var i = 0; i < Math.Min(test.Count, limit ?? int.MaxValue); i++)
        {
            var s = test.Get(i);
            seg.Add(s.Labels, Enumerable.Repeat((byte)majority, s.Labels.Length).ToArray());
            depth.Add(s.Depth, Enumerable.Repeat((float)mean, s.Depth.Length).ToArray());
        }
        return (new EvalResult(seg.MeanIoU, seg.PixelAccuracy, depth.Rmse, depth.LogRmse, depth.AbsRel, depth.Delta1, test.Count), majority, mean);
    }
}
