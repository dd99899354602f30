using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

/// <summary>Evaluates an exported model with ONNX Runtime, exactly as the engine will run it.</summary>
public static class OrtEvaluation
{
    public static EvalResult Evaluate(byte[] model, ISegDepthDataset data, int classes, string what = "evaluating")
    {
        using var session = new InferenceSession(model);
        var seg = new RealtimeMtl.Quality.SegmentationMetrics(classes);
        var depth = new RealtimeMtl.Quality.DepthMetrics();
        var progress = new WorkProgress(what, data.Count);
        for (var i = 0; i < data.Count; i++)
        {
            var s = data.Get(i);
            using var input = OrtValue.CreateTensorValueFromMemory(s.Image, [1, s.Height, s.Width, 3]);
            using var outputs = session.Run(new RunOptions(), ["image"], [input], ["labels", "depth"]);
            seg.Add(s.Labels, outputs[0].GetTensorDataAsSpan<byte>());
            depth.Add(s.Depth, outputs[1].GetTensorDataAsSpan<float>());
            progress.Report(i + 1);
        }
        progress.Done();
        return new EvalResult(seg.MeanIoU, seg.PixelAccuracy, depth.Rmse, depth.LogRmse, depth.AbsRel, depth.Delta1, data.Count);
    }

    /// <summary>
    /// Median latency over a time budget rather than a fixed count, so a paper-sized network on two cores finishes:
    /// at least <paramref name="minRuns"/> timed runs, then until <paramref name="budget"/> or <paramref name="maxRuns"/>.
    /// </summary>
    public static double MedianLatencyMs(byte[] model, int w, int h, int maxRuns = 30, int minRuns = 3, TimeSpan? budget = null)
    {
        budget ??= TimeSpan.FromSeconds(10);
        using var session = new InferenceSession(model);
        var image = new byte[w * h * 3];
        new Random(1).NextBytes(image);
        using var input = OrtValue.CreateTensorValueFromMemory(image, [1, h, w, 3]);
        void RunOnce() { using var o = session.Run(new RunOptions(), ["image"], [input], ["labels", "depth", "confidence"]); }
        var warm = Stopwatch.StartNew();
        for (var i = 0; i < 5 && (i < 1 || warm.Elapsed < budget / 4); i++) RunOnce();
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        var progress = new WorkProgress("timing", maxRuns);
        while (times.Count < maxRuns && (times.Count < minRuns || clock.Elapsed < budget))
        {
            var t = Stopwatch.GetTimestamp();
            RunOnce();
            times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            progress.Report(times.Count);
        }
        progress.Done();
        return RealtimeMtl.Common.Measuring.Percentile.Of(times, 0.5);
    }
}
