using System.CommandLine;

namespace RealtimeMtl.Cli.Commands;

internal static class BenchCommand
{
    public static Command Build()
    {
        var model = new Option<string?>("--model", "-m") { Description = "ONNX model (default: the shipped model)" };
        var source = new Option<string>("--source") { Description = "Frames to run (synthetic by default)", DefaultValueFactory = _ => "synthetic" };
        var frames = new Option<int>("--frames") { Description = "Measured frames after warm-up", DefaultValueFactory = _ => 300 };
        var json = new Option<string?>("--stats-json",
            "--json")
        { Description = "Write the figures as JSON here ('-' for stdout); --json is the same option" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads (0 = one per core)", DefaultValueFactory = _ => 0 };
        var modelOnly = new Option<bool>("--model-only")
        {
            Description =
            "Only the model and its peers, no pipeline run (large models: rtmtl bench --model paper.onnx --model-only --frames 3)"
        };
        var noPeers = new Option<bool>("--no-peers") { Description = "Skip the OpenCV DNN and TorchSharp eager peers" };
        var device = new Option<string>("--device")
        {
            Description = "cpu, cuda, tensorrt or auto (GPU: the GPU build, RTMTL_GPU=1 ./rtmtl bench ...)",
            DefaultValueFactory = _ => "cpu"
        };
        var gpuPath = new Option<string>("--gpu-path")
        {
            Description = "Under CUDA: auto, plain, iobinding or cudagraph", DefaultValueFactory = _
            => "auto"
        };
        var cameras = new Option<string?>("--cameras")
        {
            Description =
            "Many cameras instead: camera counts to measure, e.g. 1,2,4, each four ways (one engine batched, the same with --model-instances 1, " +
                "--batch 1, N processes), unpaced and paced; --frames is per camera"
        };
        var fps = new Option<double>("--fps") { Description = "With --cameras: the paced rate per camera", DefaultValueFactory = _ => 30 };
        var repeat = new Option<int>("--repeat")
        {
            Description =
            "With --cameras: trials per setting, every way once per trial in turn; each row is the trial of median frames/s (a busy or virtual " +
                "machine varies by 10 % from run to run)", DefaultValueFactory = _ => 1
        };
        var cmd = new Command("bench", """
            Measure, in one run: model-only FPS (the ONNX Runtime session on a prepared input), end-to-end pipeline FPS with
            overlay and recording, their ratio, per-stage p50/p95/p99, managed bytes allocated per frame, peak working set,
            and the same model run by OpenCV DNN and by TorchSharp eager (rtmtl-train bench-eager) as peers.
            Examples:
              ./rtmtl bench --frames 300 --stats-json out/bench.json
              ./rtmtl bench --model out/mtl_ssw_paper.onnx --model-only --frames 3     (the paper-sized network)
              RTMTL_GPU=1 ./rtmtl bench --device cuda --no-peers                     (the GPU build on an NVIDIA GPU)
              ./rtmtl bench --cameras 1,2,4 --frames 150 --fps 10 --repeat 3         (many cameras: batched vs --batch 1 vs N processes)
            The model is warmed up on a blank input first (until two runs agree within 20 %); that time is reported
            on its own and never timed.
            """) { model, source, frames, json, threads, modelOnly, noPeers, device, gpuPath, cameras, fps, repeat };
        cmd.SetAction(async (r, ct) =>
        {
            if (r.GetValue(cameras) is { } list)
            {
                List<int> counts;
                try
                {
                    counts = list.Split(',').Select(v => int.TryParse(v, out var n) && n is >= 1 and <= 16 ? n
                        : throw new ArgumentException($"--cameras '{list}': give camera counts between 1 and 16, e.g. " +
                            $"1,2,4")).Distinct().Order().ToList();
                    if (!counts.Contains(1)) counts.Insert(0, 1); // the single-camera row every ratio is taken against
                    if (r.GetValue(frames) < 10) throw new ArgumentException("--frames must be at least 10 per camera");
                    if (!(r.GetValue(fps) is > 0 and <= 240)) throw new ArgumentException("--fps must be between 0 and 240");
                    if (r.GetValue(repeat) is < 1 or > 20) throw new ArgumentException("--repeat must be between 1 and 20");
                }
                catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
                return await RealtimeMtl.Cli.Bench.CamerasBench.RunAsync(counts, r.GetValue(frames), r.GetValue(fps), r.GetValue(model)
                    ?? DefaultModel.Path(), r.GetValue(threads), r.GetValue(json), Console.Out, Console.Error, ct, r.GetValue(source)!,
                        r.GetValue(repeat));
            }
            BenchSettings settings;
            try
            {
                settings = new BenchSettings(r.GetValue(model) ?? DefaultModel.Path(), r.GetValue(source)!, r.GetValue(frames), r.GetValue(threads),
                    r.GetValue(json),
                    r.GetValue(modelOnly), !r.GetValue(noPeers), RealtimeMtl.Inference.ExecutionProviders.Parse(r.GetValue(device)!),
                        RealtimeMtl.Inference.GpuOptions.Parse(r.GetValue(gpuPath)!));
            }
            catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
            return await RealtimeMtl.Cli.Bench.Bench.RunAsync(settings, Console.Out, Console.Error, ct);
        });
        return cmd;
    }
}
