using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenCvSharp;
using RealtimeMtl.Cli.Bench;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Sinks.Recording;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Render;
using RealtimeMtl.Render.Drawing;

namespace RealtimeMtl.Cli.Commands;

/// <summary>rtmtl bench: model-only vs end-to-end in one run, so the figures are ratios on the same machine state.</summary>
public static class Bench
{
    public static async Task<int> RunAsync(BenchSettings b, TextWriter output, TextWriter errors, CancellationToken ct)
    {
        var (modelPath, sourceSpec, frames, threads, jsonPath, modelOnly, peers) = (b.ModelPath, b.Source, b.Frames, b.Threads, b.JsonPath, b.ModelOnly, b.Peers);
        if (frames < 10 && !modelOnly) { errors.WriteLine("error: --frames must be at least 10 (or use --model-only)"); return 2; }
        if (frames < 1) { errors.WriteLine("error: --frames must be at least 1"); return 2; }
        OnnxMtlModel model;
        try { model = new OnnxMtlModel(modelPath, new ModelOptions { Threads = threads, Device = b.Device, Gpu = new GpuOptions { Path = b.GpuPath } }, errors.WriteLine); }
        catch (ModelContractException e) { errors.WriteLine($"error: {e.Message}"); return 2; }
        using var _ = model;
        var figures = new Dictionary<string, object>();
        var warmup = modelOnly ? Math.Clamp(frames / 10, 1, 10) : Math.Max(10, frames / 10);

        // 0. Warm-up on a blank input until two runs agree (GPU initialisation, cuDNN search, graph capture): never timed.
        var warm = model.WarmUp();
        figures["device.requested"] = b.Device.ToString().ToLowerInvariant();
        figures["device"] = model.Device.ToString().ToLowerInvariant();
        figures["device.gpu_path"] = model.GpuPath.ToString().ToLowerInvariant();
        figures["device.gpu_name"] = GpuInfo.Name() ?? "";
        figures["onnxruntime.build"] = ExecutionProviders.IsGpuBuild ? "gpu" : "cpu";
        figures["warmup.ms"] = warm.TotalMs;
        figures["warmup.runs"] = (double)warm.Runs;

        // 1. Model only: the session on a prepared input. Run() returns once the outputs are back in host memory
        // (ONNX Runtime synchronises its CUDA stream), so GPU timings include the finished work.
        var synth = new SyntheticSource(new SyntheticOptions { Frames = 1 });
        using (var f = synth.RenderFrame(0)) model.SetInput(f.Image);
        var timing = RepeatTiming.Measure(model.Run, warmup, frames);
        var modelFps = timing.Fps;
        figures["model.fps"] = modelFps;
        figures["model.ms.p50"] = timing.P50Ms;
        figures["model.ms.p95"] = timing.P95Ms;

        figures["model.name"] = model.Info.Name;
        figures["model.input"] = $"{model.Info.InputWidth}x{model.Info.InputHeight}";
        figures["machine.cores"] = Environment.ProcessorCount;

        // 2. Peers on the same model and input: OpenCV DNN in this process, TorchSharp eager in rtmtl-train.
        if (peers)
        {
            var peerFrames = modelOnly ? frames : Math.Min(frames, 100);
            errors.WriteLine($"bench: peers on {peerFrames} frames (OpenCV DNN, TorchSharp eager)");
            try
            {
                using var dnn = new OpenCvDnnPeer(modelPath, model.InputMat, threads);
                var (fps, p50, p95, _) = RepeatTiming.Measure(dnn.Run, Math.Min(warmup, 5), peerFrames);
                model.Run();
                dnn.Run();
                figures["peers.opencv_dnn.fps"] = fps;
                figures["peers.opencv_dnn.ms.p50"] = p50;
                figures["peers.opencv_dnn.ms.p95"] = p95;
                figures["peers.opencv_dnn.speedup_of_onnxruntime"] = modelFps / fps;
                figures["peers.opencv_dnn.label_agreement"] = dnn.LabelAgreement(model.Labels);
            }
            catch (Exception e) when (e is OpenCVException or InvalidOperationException)
            {
                figures["peers.opencv_dnn.problem"] = e.Message.Split('\n')[0];
            }
            var (torch, problem) = TorchEagerPeer.Run(modelPath, peerFrames, threads, TimeSpan.FromMinutes(modelOnly ? 9 : 5));
            if (torch is not null)
            {
                var tfps = torch["torch.fps"].GetDouble();
                figures["peers.torchsharp_eager.fps"] = tfps;
                figures["peers.torchsharp_eager.ms.p50"] = torch["torch.ms.p50"].GetDouble();
                figures["peers.torchsharp_eager.ms.p95"] = torch["torch.ms.p95"].GetDouble();
                figures["peers.torchsharp_eager.speedup_of_onnxruntime"] = modelFps / tfps;
                figures["peers.torchsharp_eager.architecture"] = torch["torch.architecture"].GetString() ?? "";
            }
            else figures["peers.torchsharp_eager.problem"] = problem!;
        }

        if (modelOnly)
        {
            using var p = Process.GetCurrentProcess();
            figures["memory.peak_working_set_mib"] = p.PeakWorkingSet64 / 1048576.0;
            output.WriteLine(Table(figures, null));
            await WriteJson(jsonPath, figures, ct);
            return 0;
        }

        // 3. End to end: source -> infer -> render (side layout, HUD) -> recorder, after a short warm-up run.
        // "synthetic": frames rendered before timing and replayed from memory, as a camera hands over buffers, so the
        // figure is the engine's; a full spec (synthetic:frames=300) keeps the renderer in the loop.
        var replay = sourceSpec == "synthetic";
        var spec = replay ? $"synthetic:frames={frames},size=320x240" : sourceSpec;
        List<Frame>? held = null;
        if (replay)
        {
            var synthetic = new SyntheticSource(new SyntheticOptions { Frames = frames, Width = 320, Height = 240 });
            held = Enumerable.Range(0, Math.Min(frames, 120)).Select(i => synthetic.RenderFrame(i)).ToList();
        }
        IFrameSource Open(long count) => held is null ? SourceFactory.Open(spec) : new ReplaySource(held, count, $"synthetic RGB-D walk replayed from memory ({held.Count} frames, 320x240)");
        figures["pipeline.source"] = replay ? "synthetic frames pre-rendered, replayed from memory" : spec;
        var tmp = Path.Combine(Path.GetTempPath(), $"rtmtl-bench-{Environment.ProcessId}.mp4");
        await RunPipeline(model, held is null ? SourceFactory.Open(sourceSpec == "synthetic" ? $"synthetic:frames={warmup},size=320x240,seed=2" : spec) : Open(warmup), tmp, warmup, ct);
        GC.Collect();
        using var profile = new AllocationProfile();
        profile.Start();
        var allocBefore = GC.GetTotalAllocatedBytes(true);
        var (summary, written) = await RunPipeline(model, Open(frames), tmp, frames, ct);
        var allocated = GC.GetTotalAllocatedBytes(true) - allocBefore;
        profile.Stop();
        figures["managed.top_types"] = string.Join(", ", profile.Top(6).Select(t => $"{t.Type} {t.Share:P0}"));
        File.Delete(tmp);
        held?.ForEach(f => f.Dispose());
        using var process = Process.GetCurrentProcess();
        figures["pipeline.fps"] = summary.Fps ?? double.NaN;
        figures["pipeline.frames"] = summary.Frames;
        figures["pipeline.recorded_frames"] = written;
        figures["pipeline.efficiency"] = (summary.Fps ?? double.NaN) / modelFps;
        foreach (var (stage, f) in summary.Stages)
        {
            figures[$"stage.{stage}.p50_ms"] = f.P50;
            figures[$"stage.{stage}.p95_ms"] = f.P95;
            figures[$"stage.{stage}.p99_ms"] = f.P99;
        }
        figures["managed.bytes_per_frame"] = (double)allocated / Math.Max(1, summary.Frames);
        figures["memory.peak_working_set_mib"] = process.PeakWorkingSet64 / 1048576.0;

        output.WriteLine(Table(figures, summary));
        await WriteJson(jsonPath, figures, ct);
        return 0;
    }

    private static async Task WriteJson(string? jsonPath, Dictionary<string, object> figures, CancellationToken ct)
    {
        if (jsonPath is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
        await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true }), ct);
    }

    private static async Task<(RunSummary, long)> RunPipeline(OnnxMtlModel model, IFrameSource opened, string record, int frames, CancellationToken ct)
    {
        await using var source = opened;
        using var renderer = new FrameRenderer(model.Info, new RenderOptions { Layout = Layout.Side });
        await using var recorder = new VideoRecorderSink(record, source.NominalFps ?? 30);
        var pipeline = new EnginePipeline(source, model, renderer, [recorder], new PipelineOptions { MaxFrames = frames });
        var summary = await pipeline.RunAsync(ct);
        return (summary, recorder.FramesWritten);
    }

    private static string Table(Dictionary<string, object> f, RunSummary? s)
    {
        var c = CultureInfo.InvariantCulture;
        string N(string key, string fmt = "0.0") => f.TryGetValue(key, out var v) && v is double d ? d.ToString(fmt, c) : "-";
        var sb = new StringBuilder();
        sb.AppendLine($"| figure | value |");
        sb.AppendLine($"|---|---|");
        var gpu = f["device"] is "cpu" ? "" : $", {f["device.gpu_path"]}" + (f["device.gpu_name"] is string { Length: > 0 } g ? $", {g}" : "");
        sb.AppendLine($"| model | {f["model.name"]} ({f["model.input"]}, {f["device"]}{gpu}, {f["machine.cores"]} cores) |");
        sb.AppendLine($"| device asked / used | {f["device.requested"]} / {f["device"]} (ONNX Runtime {f["onnxruntime.build"]} build) |");
        sb.AppendLine($"| warm-up (not timed) | {N("warmup.ms", "0")} ms over {N("warmup.runs", "0")} runs |");
        sb.AppendLine($"| model-only FPS (ONNX Runtime session) | {N("model.fps")} (p50 {N("model.ms.p50", "0.00")} ms) |");
        foreach (var (key, label) in new[] { ("opencv_dnn", "OpenCV DNN"), ("torchsharp_eager", "TorchSharp eager") })
        {
            if (f.TryGetValue($"peers.{key}.problem", out var problem)) sb.AppendLine($"| peer {label} | not measured: {problem} |");
            else if (f.ContainsKey($"peers.{key}.fps"))
                sb.AppendLine($"| peer {label} FPS (ONNX Runtime speed-up) | {N($"peers.{key}.fps")} (p50 {N($"peers.{key}.ms.p50", "0.00")} ms; ONNX Runtime {N($"peers.{key}.speedup_of_onnxruntime", "0.00")}x)"
                    + (f.ContainsKey($"peers.{key}.label_agreement") ? $", labels agree with ONNX Runtime on {N($"peers.{key}.label_agreement", "0.0000")} of pixels |" : " |"));
        }
        if (s is not null)
        {
            sb.AppendLine($"| pipeline FPS (320x240, side layout + HUD + mp4 recording; source: {f["pipeline.source"]}) | {N("pipeline.fps")} |");
            sb.AppendLine($"| pipeline efficiency (pipeline / model-only) | {N("pipeline.efficiency", "0.00")} |");
            foreach (var stage in s.Stages.Keys)
                sb.AppendLine($"| {stage} p50 / p95 / p99 ms | {N($"stage.{stage}.p50_ms", "0.00")} / {N($"stage.{stage}.p95_ms", "0.00")} / {N($"stage.{stage}.p99_ms", "0.00")} |");
            sb.AppendLine($"| managed bytes allocated per frame | {N("managed.bytes_per_frame", "0")} |");
            if (f.TryGetValue("managed.top_types", out var top) && top is string { Length: > 0 } types) sb.AppendLine($"| allocation profile (sampled) | {types} |");
        }
        sb.AppendLine($"| peak working set | {N("memory.peak_working_set_mib")} MiB |");
        return sb.ToString();
    }
}
