using System.Diagnostics;
using System.Globalization;
using System.Text;
using OpenCvSharp;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Cli.Commands;
using RealtimeMtl.Cli.Composition;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Inference;
using RealtimeMtl.Inference.PostProcessing;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Render;
using RealtimeMtl.Render.Drawing;
using RealtimeMtl.Sinks.Recording;

namespace RealtimeMtl.Cli.Bench;

/// <summary>rtmtl bench: model-only, peers and end-to-end in one run, so the figures are ratios on the same machine state.</summary>
public static class Bench
{
    public static async Task<int> RunAsync(BenchSettings b, TextWriter output, TextWriter errors, CancellationToken ct)
    {
        if (b.Frames < 10 && !b.ModelOnly) { errors.WriteLine("error: --frames must be at least 10 (or use --model-only)"); return 2; }
        if (b.Frames < 1) { errors.WriteLine("error: --frames must be at least 1"); return 2; }
        OnnxMtlModel model;
        try
        {
            model = new OnnxMtlModel(b.ModelPath, new ModelOptions
            {
                Threads = b.Threads, Device = b.Device, Gpu = new GpuOptions
                {
                    Path = b.GpuPath
                }
            }, new TextEventLog(errors));
        }
        catch (ModelContractException e) { errors.WriteLine($"error: {e.Message}"); return 2; }
        using var _ = model;
        var warmup = b.ModelOnly ? Math.Clamp(b.Frames / 10, 1, 10) : Math.Max(10, b.Frames / 10);
        var result = MeasureModel(b, model, warmup);
        if (b.Peers) result = result with { Peers = MeasurePeers(b, model, warmup, result.Model.Fps, errors) };
        if (!b.ModelOnly) result = result with { Pipeline = await MeasurePipelineAsync(b, model, warmup, result.Model.Fps, ct) };
        using (var p = Process.GetCurrentProcess()) result = result with { PeakWorkingSetMib = p.PeakWorkingSet64 / 1048576.0 };
        output.WriteLine(Report(result));
        if (b.JsonPath is { } path)
        {
            if (path == "-") output.WriteLine(result.ToJson());
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                AtomicFile.Write(path, result.ToJson());
            }
        }
        return 0;
    }

    /// <summary>Warm-up until two runs agree (never timed), then the session alone on a prepared input.</summary>
    private static BenchResult MeasureModel(BenchSettings b, OnnxMtlModel model, int warmup)
    {
        var warm = model.WarmUp();
        using (var f = new SyntheticSource(new SyntheticOptions { Frames = 1 }).RenderFrame(0)) model.SetInput(f.Image);
        // Run() returns once the outputs are in host memory (ONNX Runtime synchronises its CUDA stream).
        var t = RepeatTiming.Measure(model.Run, warmup, b.Frames);
        return new BenchResult
        {
            Device = new(b.Device.ToString().ToLowerInvariant(), model.DeviceName, model.GpuPath.ToString().ToLowerInvariant(), GpuInfo.Name() ?? "",
                ExecutionProviders.IsGpuBuild ? "gpu" : "cpu"),
            Model = new(model.Info.Name, $"{model.Info.InputWidth}x{model.Info.InputHeight}", t.Fps, t.P50Ms, t.P95Ms, warm.TotalMs, warm.Runs),
        };
    }

    /// <summary>The same model and input in OpenCV DNN (this process) and TorchSharp eager (rtmtl-train).</summary>
    private static List<BenchResult.PeerFigures> MeasurePeers(BenchSettings b, OnnxMtlModel model, int warmup, double modelFps, TextWriter errors)
    {
        var frames = b.ModelOnly ? b.Frames : Math.Min(b.Frames, 100);
        errors.WriteLine($"bench: peers on {frames} frames (OpenCV DNN, TorchSharp eager)");
        var peers = new List<BenchResult.PeerFigures>();
        var dnnPeer = new BenchResult.PeerFigures("opencv_dnn", "OpenCV DNN");
        try
        {
            using var dnn = new OpenCvDnnPeer(b.ModelPath, model.InputMat, b.Threads);
            var t = RepeatTiming.Measure(dnn.Run, Math.Min(warmup, 5), frames);
            model.Run();
            dnn.Run();
            peers.Add(dnnPeer with
            {
                Fps = t.Fps,
                P50Ms = t.P50Ms,
                P95Ms = t.P95Ms,
                OnnxRuntimeSpeedup = modelFps / t.Fps,
                LabelAgreement = dnn.LabelAgreement(model.Labels)
            });
        }
        catch (Exception e) when (e is OpenCVException or InvalidOperationException)
        {
            peers.Add(dnnPeer with { Problem = e.Message.Split('\n')[0] });
        }
        var torchPeer = new BenchResult.PeerFigures("torchsharp_eager", "TorchSharp eager");
        var (torch, problem) = TorchEagerPeer.Run(b.ModelPath, frames, b.Threads, TimeSpan.FromMinutes(b.ModelOnly ? 9 : 5));
        if (torch is null) peers.Add(torchPeer with { Problem = problem });
        else
        {
            var fps = torch["torch.fps"].GetDouble();
            peers.Add(torchPeer with
            {
                Fps = fps,
                P50Ms = torch["torch.ms.p50"].GetDouble(),
                P95Ms = torch["torch.ms.p95"].GetDouble(),
                OnnxRuntimeSpeedup = modelFps / fps,
                Architecture = torch["torch.architecture"].GetString(),
            });
        }
        return peers;
    }

    /// <summary>
    /// source -> infer -> render (side layout, HUD) -> recorder after a short warm-up run. "synthetic": frames
    /// rendered before timing and replayed from memory, as a camera hands over buffers, so the figure is the
    /// engine's; a full spec (synthetic:frames=300) keeps the world's renderer in the loop.
    /// </summary>
    private static async Task<BenchResult.PipelineFigures> MeasurePipelineAsync(BenchSettings b, OnnxMtlModel model, int warmup, double modelFps,
        CancellationToken ct)
    {
        var replay = b.Source == "synthetic";
        var spec = replay ? $"synthetic:frames={b.Frames},size=320x240" : b.Source;
        List<Frame>? held = null;
        if (replay)
        {
            var synthetic = new SyntheticSource(new SyntheticOptions { Frames = b.Frames, Width = 320, Height = 240 });
            held = Enumerable.Range(0, Math.Min(b.Frames, 120)).Select(i => synthetic.RenderFrame(i)).ToList();
        }
        IFrameSource Open(long count) => held is null ? SourceFactory.Open(spec) : new ReplaySource(held, count,
            $"synthetic RGB-D walk replayed from memory ({held.Count} frames, 320x240)");
        var tmp = Path.Combine(Path.GetTempPath(), $"rtmtl-bench-{Environment.ProcessId}.mp4");
        try
        {
            using var renderer = new FrameRenderer(model.Info, new RenderOptions { Layout = Layout.Side });
            await RunPipeline(model, renderer, held is null ? SourceFactory.Open(replay ? $"synthetic:frames={warmup},size=320x240,seed=2" : spec)
                : Open(warmup), tmp, warmup, ct);
            GC.Collect();
            // The measured run: no event listener attached (listening to the runtime's allocation events allocates
            // about 1 KB per frame itself), steady-state bytes read by a sink at a fifth of the run and at its end.
            var before = GC.GetTotalAllocatedBytes(true);
            var window = new AllocationWindow(b.Frames / 5, b.Frames - 2);
            var (summary, written) = await RunPipeline(model, renderer, Open(b.Frames), tmp, b.Frames, ct, window);
            var allocated = GC.GetTotalAllocatedBytes(true) - before;
            // Then a shorter run under the runtime's sampled allocation events: which types the per-frame path allocates.
            List<string> top;
            // Disposed before the runs after it: a listener still attached allocates for every runtime event it is sent.
            using (var profile = new AllocationProfile())
            {
                profile.Start();
                await RunPipeline(model, renderer, Open(Math.Max(30, b.Frames / 4)), tmp, Math.Max(30, b.Frames / 4), ct);
                profile.Stop();
                top = profile.Top(6).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Type} {t.Share:P0}")).ToList();
            }
            var byStage = held is null ? [] : await StageAllocationsAsync(model, renderer, held, tmp);
            var four = held is null ? double.NaN : await FourCameraAllocationAsync(model, held, b.Frames, ct);
            var fps = summary.Fps ?? double.NaN;
            return new BenchResult.PipelineFigures(replay ? "synthetic frames pre-rendered, replayed from memory" : spec, fps, summary.Frames,
                written, fps / modelFps,
                summary.Stages.Where(s => s.Key != window.Name).ToDictionary(s => s.Key, s => new BenchResult.StageLatency(s.Value.P50, s.Value.P95,
                    s.Value.P99)),
                window.BytesPerFrame, (double)allocated / Math.Max(1, summary.Frames), byStage, top)
            { ManagedBytesPerFrameFourCameras = four };
        }
        finally
        {
            File.Delete(tmp);
            held?.ForEach(f => f.Dispose());
        }
    }

    /// <summary>
    /// Managed bytes per frame of each element alone, after a warm-up pass, on the calling thread where the element
    /// runs synchronously (the replay source over all threads): where the steady state's allocation comes from.
    /// </summary>
    private static async Task<Dictionary<string, double>> StageAllocationsAsync(OnnxMtlModel model, FrameRenderer renderer, List<Frame> held,
        string record)
    {
        const int n = 100;
        var result = new Dictionary<string, double>();
        var replay = new ReplaySource(held, 2 * n, "replay");
        var count = 0;
        long start = 0;
        await foreach (var f in replay.ReadAllAsync())
        {
            if (count++ == n) start = GC.GetTotalAllocatedBytes(true);
            f.Dispose();
        }
        result["source (replay)"] = (GC.GetTotalAllocatedBytes(true) - start) / (double)n;
        var stats = new PipelineStats();
        var infer = new InferStage(model, new ModelPostProcessor(), stats);
        var packets = held.Take(8).Select((f, i) => infer.Packet(f.Copy(i, Stopwatch.GetTimestamp()))).ToList();
        File.Delete(record);
        await using var recorder = new VideoRecorderSink(record, 30);
        double PerFrame(Action<FramePacket> step)
        {
            foreach (var p in packets) step(p);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < n; i++) step(packets[i % packets.Count]);
            return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)n;
        }
        result["infer"] = PerFrame(infer.Process);
        result["render"] = PerFrame(p => { renderer.Render(p, p.RenderTarget, stats); p.Rendered = p.RenderTarget; });
        result["record"] = PerFrame(p => recorder.WriteAsync(p, CancellationToken.None).AsTask().GetAwaiter().GetResult());
        await recorder.CompleteAsync();
        foreach (var p in packets) p.Release();
        infer.ClearPool();
        File.Delete(record);
        return result;
    }

    /// <summary>
    /// Managed bytes per frame of each camera with four cameras in one engine, steady state: four replays of the held
    /// frames, each with its own renderer and recording, through the builder as `run --source ... x4` would assemble them.
    /// </summary>
    private static async Task<double> FourCameraAllocationAsync(OnnxMtlModel model, List<Frame> held, int frames, CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"rtmtl-bench-{Environment.ProcessId}-four");
        Directory.CreateDirectory(dir);
        var renderers = Enumerable.Range(0, 4).Select(_ => new FrameRenderer(model.Info, new RenderOptions { Layout = Layout.Side })).ToList();
        try
        {
            double perFrame = double.NaN;
            // Twice: the first run warms every path up (as the single-camera figure's warm-up run does); the second is measured.
            foreach (var measured in new[] { false, true })
            {
                var cameras = Enumerable.Range(0, 4).Select(i => new NamedSource($"cam{i}", "replay")).ToList();
                var settings = new EngineSettings
                {
                    Source = "replay", Cameras = cameras, ModelPath = model.Info.Name, Record = Path.Combine(dir, "{camera}.mp4"),
                    MaxFrames = measured ? frames : 30, Quiet = true
                };
                var window = new AllocationWindow(frames / 5, frames - 2);
                GC.Collect();
                await using var engine = await new EngineBuilder(settings, new ConsoleEvents(Console.Error, quiet: true), TextWriter.Null)
                    .UseModel(model)
                    .UseSources(renderers.Select(r => ((IFrameSource)new ReplaySource(held, measured ? frames : 30, "replay"), (IFrameRenderer)r))
                        .ToList())
                    .AddSinks(_ => [window]).BuildAsync();
                await engine.RunAsync(ct);
                // The window spans camera 0's frames; the four cameras ran as many frames in that time.
                perFrame = window.BytesPerFrame / 4;
            }
            return perFrame;
        }
        finally
        {
            renderers.ForEach(r => r.Dispose());
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(RunSummary, long)> RunPipeline(OnnxMtlModel model, FrameRenderer renderer, IFrameSource opened, string record,
        int frames, CancellationToken ct, AllocationWindow? window = null)
    {
        // The engine as every command builds it, on the bench's warmed model and renderer: the annotated recording its one output.
        var settings = new EngineSettings
        {
            Source = opened.Description, ModelPath = model.Info.Name, Record = record, MaxFrames = frames, Quiet = true
        };
        await using var engine = await new EngineBuilder(settings, new ConsoleEvents(Console.Error, quiet: true), TextWriter.Null)
            .UseModel(model).UseSource(opened, renderer).AddSinks(_ => window is null ? [] : [window]).BuildAsync();
        var summary = (await engine.RunAsync(ct)).Summary!;
        return (summary, summary.Recording?.FramesWritten ?? 0);
    }

    /// <summary>The figures as a Markdown table.</summary>
    public static string Report(BenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        string N(double? v, string fmt = "0.0") => v is { } d && double.IsFinite(d) ? d.ToString(fmt, c) : "-";
        var sb = new StringBuilder();
        sb.AppendLine("| figure | value |");
        sb.AppendLine("|---|---|");
        var d = r.Device;
        var gpu = d.Used == "cpu" ? "" : $", {d.GpuPath}" + (d.GpuName.Length > 0 ? $", {d.GpuName}" : "");
        sb.AppendLine($"| model | {r.Model.Name} ({r.Model.Input}, {d.Used}{gpu}, {r.Cores} cores) |");
        sb.AppendLine($"| device asked / used | {d.Requested} / {d.Used} (ONNX Runtime {d.OnnxRuntimeBuild} build) |");
        sb.AppendLine($"| warm-up (not timed) | {N(r.Model.WarmUpMs, "0")} ms over {r.Model.WarmUpRuns} runs |");
        sb.AppendLine($"| model-only FPS (ONNX Runtime session) | {N(r.Model.Fps)} (p50 {N(r.Model.P50Ms, "0.00")} ms) |");
        foreach (var p in r.Peers)
        {
            if (p.Problem is not null) sb.AppendLine($"| peer {p.Label} | not measured: {p.Problem} |");
            else sb.AppendLine($"| peer {p.Label} FPS (ONNX Runtime speed-up) | {N(p.Fps)} (p50 {N(p.P50Ms, "0.00")} ms; ONNX Runtime " +
                $"{N(p.OnnxRuntimeSpeedup, "0.00")}x)"
                + (p.LabelAgreement is { } a ? $", labels agree with ONNX Runtime on {N(a, "0.0000")} of pixels |" : " |"));
        }
        if (r.Pipeline is { } pl)
        {
            sb.AppendLine($"| pipeline FPS (320x240, side layout + HUD + mp4 recording; source: {pl.Source}) | {N(pl.Fps)} |");
            sb.AppendLine($"| pipeline efficiency (pipeline / model-only) | {N(pl.Efficiency, "0.00")} |");
            foreach (var (stage, s) in pl.Stages)
                sb.AppendLine($"| {stage} p50 / p95 / p99 ms | {N(s.P50Ms, "0.00")} / {N(s.P95Ms, "0.00")} / {N(s.P99Ms, "0.00")} |");
            sb.AppendLine($"| managed bytes allocated per frame, steady state (frames {N(pl.Frames / 5.0, "0")}-{pl.Frames - 2}) / whole run | " +
                $"{N(pl.ManagedBytesPerFrame, "0")} / {N(pl.ManagedBytesPerFrameWholeRun, "0")} |");
            sb.AppendLine("| managed bytes per frame of each camera, four cameras in one engine, steady state | " +
                $"{N(pl.ManagedBytesPerFrameFourCameras, "0")} |");
            if (pl.BytesPerFrameByStage.Count > 0) sb.AppendLine($"| allocation per frame by element (alone) | " +
                $"{string.Join(", ", pl.BytesPerFrameByStage.Select(kv => $"{kv.Key} {N(kv.Value, "0")} B"))} |");
            if (pl.TopAllocatedTypes.Count > 0) sb.AppendLine($"| allocation profile (sampled types, separate run) | " +
                $"{string.Join(", ", pl.TopAllocatedTypes)} |");
        }
        sb.AppendLine($"| peak working set | {N(r.PeakWorkingSetMib)} MiB |");
        return sb.ToString();
    }
}
