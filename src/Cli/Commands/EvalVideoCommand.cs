using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// rtmtl eval --video: label-free quality of a model on real footage, where no ground truth exists. On a static
/// camera a good model is steady: few pixels change class from frame to frame (flicker) and depth hardly moves.
/// </summary>
internal static class EvalVideoCommand
{
    public static Command Build()
    {
        var video = new Option<string>("--video") { Description = "Video file (or any source spec) to evaluate", Required = true };
        var model = new Option<string?>("--model", "-m") { Description = "ONNX model (default: the shipped model)" };
        var maxFrames = new Option<int>("--max-frames") { Description = "Stop after N frames", DefaultValueFactory = _ => 300 };
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON here" };
        var smooth = new Option<bool>("--smooth") { Description = "Measure with the engine's temporal filtering (--smooth) on" };
        var cmd = new Command("eval", """
            Label-free quality on real video: temporal label flicker (share of pixels that change class between
            consecutive frames), depth temporal stability (median relative change per frame), the class histogram and
            depth percentiles. On a static scene, compare with and without --smooth.
            Examples:
              ./rtmtl eval --video street.mp4 --max-frames 300 --json out/street.json
              ./rtmtl eval --video street.mp4 --smooth
            """) { video, model, maxFrames, json, smooth };
        cmd.SetAction(r =>
        {
            try
            {
                if (r.GetValue(maxFrames) < 2) throw new ArgumentException("--max-frames must be at least 2 (flicker compares consecutive frames)");
                var result = Run(r.GetValue(video)!, r.GetValue(model) ?? DefaultModel.Path(), r.GetValue(maxFrames), r.GetValue(smooth));
                Console.WriteLine(result.ToText());
                if (r.GetValue(json) is { } path) File.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
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
