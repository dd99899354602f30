using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Inference;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// rtmtl eval --video (the video mode of <see cref="EvalCommand"/>): label-free quality of a model on real footage, where no ground truth exists. On a static
/// camera a good model is steady: few pixels change class from frame to frame (flicker) and depth hardly moves.
/// </summary>
internal static class EvalVideoCommand
{
    public sealed record VideoQuality(string Video, string Model, bool Smooth, int Frames, double LabelFlicker, double DepthRelativeChange,
        Dictionary<string, double> ClassShares, Dictionary<string, double> DepthPercentilesM)
    {
        public string ToText()
        {
            var c = CultureInfo.InvariantCulture;
            var lines = new List<string>
            {
                string.Create(c, $"video   {Video}: {Frames} frames, model {Model}{(Smooth ? ", --smooth" : "")}"),
                string.Create(c, $"flicker {LabelFlicker * 100:0.00} % of pixels change class per frame"),
                string.Create(c, $"depth   median relative change per frame {DepthRelativeChange * 100:0.00} %; percentiles {string.Join(", ", DepthPercentilesM.Select(kv => $"{kv.Key} {kv.Value:0.00} m"))}"),
                "classes " + string.Join(", ", ClassShares.Where(kv => kv.Value >= 0.005).OrderByDescending(kv => kv.Value).Select(kv => string.Create(c, $"{kv.Key} {kv.Value * 100:0.0} %"))),
            };
            return string.Join('\n', lines);
        }
    }

    public static unsafe VideoQuality Run(string video, string modelPath, int maxFrames, bool smooth)
    {
        using var model = new OnnxMtlModel(modelPath);
        var smoother = smooth ? new TemporalSmoother() : null;
        var source = SourceFactory.Open(video);
        try
        {
            int w = model.Info.InputWidth, h = model.Info.InputHeight, n = w * h;
            var prevLabels = new byte[n];
            var prevDepth = new float[n];
            var counts = new long[256];
            var flicker = new List<double>();
            var depthChange = new List<double>();
            var depthSample = new List<float>();
            var rel = new float[n];
            var frames = 0;
            var e = source.ReadAllAsync().GetAsyncEnumerator();
            try
            {
                while (frames < maxFrames && e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                {
                    using var frame = e.Current;
                    model.SetInput(frame.Image);
                    model.Run();
                    smoother?.Apply(model.Labels, model.Depth, model.Confidence);
                    var labels = new ReadOnlySpan<byte>((void*)model.Labels.Data, n);
                    var depth = new ReadOnlySpan<float>((void*)model.Depth.Data, n);
                    if (frames > 0)
                    {
                        int changed = 0, m = 0;
                        for (var i = 0; i < n; i++)
                        {
                            if (labels[i] != prevLabels[i]) changed++;
                            if (prevDepth[i] > 0 && depth[i] > 0) rel[m++] = Math.Abs(depth[i] - prevDepth[i]) / prevDepth[i];
                        }
                        flicker.Add((double)changed / n);
                        if (m > 0) depthChange.Add(RealtimeMtl.Common.Measuring.Percentile.Select(rel.AsSpan(0, m), 0.5));
                    }
                    for (var i = 0; i < n; i++) counts[labels[i]]++;
                    for (var i = 0; i < n; i += 97) if (depth[i] > 0 && float.IsFinite(depth[i])) depthSample.Add(depth[i]);
                    labels.CopyTo(prevLabels);
                    depth.CopyTo(prevDepth);
                    frames++;
                }
            }
            finally { e.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
            if (frames < 2) throw new ArgumentException($"'{video}' gave {frames} frame(s); flicker needs at least two.");
            var total = (double)counts.Sum();
            var shares = model.Info.Labels.Classes.Select((name, i) => (name, share: counts[i] / total)).ToDictionary(x => x.name, x => Math.Round(x.share, 5));
            depthSample.Sort();
            double P(double q) => RealtimeMtl.Common.Measuring.Percentile.OfSorted(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(depthSample), q);
            return new VideoQuality(video, Path.GetFileName(modelPath), smooth, frames, flicker.Average(),
                RealtimeMtl.Common.Measuring.Percentile.Of(depthChange, 0.5), shares,
                new Dictionary<string, double> { ["p5"] = P(0.05), ["p25"] = P(0.25), ["p50"] = P(0.5), ["p75"] = P(0.75), ["p95"] = P(0.95) });
        }
        finally { source.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }
}
