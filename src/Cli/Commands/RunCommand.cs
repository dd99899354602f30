using System.CommandLine;

namespace RealtimeMtl.Cli.Commands;

internal static class RunCommand
{
    public static Command Build()
    {
        var set = new EngineOptionSet();
        var cmd = new Command("run", """
            Run the engine on a source: segmentation overlay and depth colormap, live, with measured FPS and latency.
            Examples:
              ./rtmtl run --source 0 --show                                          webcam 0 in a window
              ./rtmtl run --source /dev/video2 --camera-size 1280x720 --record cam.mp4
              ./rtmtl run --source clip.mp4 --record clip_annotated.mp4 --layout overlay --alpha 0.6
              ./rtmtl run --source rtsp://192.168.1.20:554/stream1 --show --layout side
              ./rtmtl run --source tum:rgbd_dataset_freiburg1_desk --layout quad --stats-json desk.json
              ./rtmtl run --source nyu:data/walk --save-raw out/raw --max-frames 100
              ./rtmtl run --source synthetic:seed=3,frames=500 --device cuda       (falls back to CPU without a GPU)
              ./rtmtl run --source clip.mp4 --save                                 (runs/run/run-N: annotated.mp4, recording.mcap, raw/,
                                                                                    stats.json, args.json)
              ./rtmtl run --source 'clips/*.mp4' --save                            (a queue: each file into runs/run/run-N/NAME/)
              ./rtmtl run --source cameras.streams --layout grid --record grid.mp4 (one camera per line of the file)
              ./rtmtl run --source 0 --intrinsics ost.yaml --undistort --feed 127.0.0.1:50051 --feed-image
                                                                       (a robot: python3 clients/python/feed_client.py 127.0.0.1:50051)
            Ctrl+C stops gracefully (recordings are finalised); a second Ctrl+C exits at once.
            """);
        set.AddTo(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            EngineSettings settings;
            try { settings = set.Read(r); }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            if (settings.Queue is { } files) return await FileQueue.RunAsync(settings, files, Console.Out, Console.Error, ct);
            return await EngineRunner.RunAsync(settings, Console.Out, Console.Error, ct);
        });
        return cmd;
    }
}
