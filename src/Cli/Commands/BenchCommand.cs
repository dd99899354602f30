using System.CommandLine;

namespace RealtimeMtl.Cli.Commands;

internal static class BenchCommand
{
    public static Command Build()
    {
        var model = new Option<string?>("--model", "-m") { Description = "ONNX model (default: the shipped model)" };
        var source = new Option<string>("--source") { Description = "Frames to run (synthetic by default)", DefaultValueFactory = _ => "synthetic" };
        var frames = new Option<int>("--frames") { Description = "Measured frames after warm-up", DefaultValueFactory = _ => 300 };
        var json = new Option<string?>("--stats-json", "--json") { Description = "Write the figures as JSON here ('-' for stdout); --json is the same option" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads (0 = one per core)", DefaultValueFactory = _ => 0 };
        var modelOnly = new Option<bool>("--model-only") { Description = "Only the model and its peers, no pipeline run (large models: rtmtl bench --model paper.onnx --model-only --frames 3)" };
        var noPeers = new Option<bool>("--no-peers") { Description = "Skip the OpenCV DNN and TorchSharp eager peers" };
        var device = new Option<string>("--device") { Description = "cpu, cuda, tensorrt or auto (GPU: the GPU build, RTMTL_GPU=1 ./rtmtl bench ...)", DefaultValueFactory = _ => "cpu" };
        var gpuPath = new Option<string>("--gpu-path") { Description = "Under CUDA: auto, plain, iobinding or cudagraph", DefaultValueFactory = _ => "auto" };
        var cmd = new Command("bench", """
            Measure, in one run: model-only FPS (the ONNX Runtime session on a prepared input), end-to-end pipeline FPS with
            overlay and recording, their ratio, per-stage p50/p95/p99, managed bytes allocated per frame, peak working set,
            and the same model run by OpenCV DNN and by TorchSharp eager (rtmtl-train bench-eager) as peers.
            Examples:
              ./rtmtl bench --frames 300 --stats-json out/bench.json
              ./rtmtl bench --model out/mtl_ssw_paper.onnx --model-only --frames 3     (the paper-sized network)
              RTMTL_GPU=1 ./rtmtl bench --device cuda --no-peers                     (the GPU build on an NVIDIA GPU)
            The model is warmed up on a blank input first (until two runs agree within 20 %); that time is reported
            on its own and never timed.
            """) { model, source, frames, json, threads, modelOnly, noPeers, device, gpuPath };
        cmd.SetAction(async (r, ct) =>
        {
            BenchSettings settings;
            try
            {
                settings = new BenchSettings(r.GetValue(model) ?? DefaultModel.Path(), r.GetValue(source)!, r.GetValue(frames), r.GetValue(threads), r.GetValue(json),
                    r.GetValue(modelOnly), !r.GetValue(noPeers), RealtimeMtl.Inference.ExecutionProviders.Parse(r.GetValue(device)!), RealtimeMtl.Inference.GpuOptions.Parse(r.GetValue(gpuPath)!));
            }
            catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
            return await RealtimeMtl.Cli.Bench.Bench.RunAsync(settings, Console.Out, Console.Error, ct);
        });
        return cmd;
    }
}
