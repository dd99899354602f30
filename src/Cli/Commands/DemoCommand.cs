using System.CommandLine;

namespace RealtimeMtl.Cli.Commands;

internal static class DemoCommand
{
    public const string DefaultRecording = "out/demo.mp4";
    public const string MultiRecording = "out/demo/{camera}.mp4";
    private static readonly string[] Sizes = ["320x240", "256x192", "384x288", "192x144"];
    private static readonly double[] Rates = [30, 15, 20, 25];

    public static Command Build()
    {
        var set = new EngineOptionSet();
        var frames = new Option<int>("--frames") { Description = "Length of the synthetic walk", DefaultValueFactory = _ => 300 };
        var seed = new Option<int>("--seed") { Description = "Synthetic world seed", DefaultValueFactory = _ => 1 };
        var cameras = new Option<int>("--cameras")
        {
            Description =
            "Several synthetic cameras in one engine (different seeds, sizes and rates), batched: out/demo/{camera}.mp4, the mosaic " +
                "out/demo/grid.mp4 and a summary per camera", DefaultValueFactory = _ => 1
        };
        var cmd = new Command("demo", $"""
            The built-in demo: a {300}-frame synthetic RGB-D walk (320x240, exact depth and labels) through the shipped model,
            recorded to {DefaultRecording} (side layout), with the FPS/latency summary and live quality against ground truth.
            Examples:
              ./rtmtl demo
              ./rtmtl demo --frames 600 --layout quad --record out/quad.mp4
              ./rtmtl demo --show
              ./rtmtl demo --cameras 3
            """) { frames, seed, cameras };
        set.AddTo(cmd, includeSource: false);
        cmd.SetAction(async (r, ct) =>
        {
            EngineSettings settings;
            try
            {
                var n = r.GetValue(cameras);
                if (n is < 1 or > 16) throw new ArgumentException("--cameras must be between 1 and 16");
                settings = set.Read(r, n == 1
                    ? [$"synthetic:seed={r.GetValue(seed)},frames={r.GetValue(frames)},size=320x240,noise=1"]
                    : Enumerable.Range(0, n).Select(i
                        => $"cam{i}=synthetic:seed={r.GetValue(seed) + i},frames={r.GetValue(frames)}," +
                            $"size={Sizes[i % Sizes.Length]},fps={Rates[i % Rates.Length]},noise=1").ToList());
                if (settings.Record is null)
                {
                    var record = n == 1 ? DefaultRecording : MultiRecording;
                    Directory.CreateDirectory(Path.GetDirectoryName(record)!);
                    settings = settings with
                    {
                        Record = record,
                        StatsJson = settings.StatsJson ?? (n == 1 ? "out/demo.json"
                        : "out/demo/stats.json")
                    };
                    // Several cameras: each camera's recording, and one mosaic of them all.
                    if (n > 1 && settings.GridRecord is null) settings = settings with { Grid = true, GridRecord = "out/demo/grid.mp4" };
                }
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            Console.Error.WriteLine($"demo: recording to {settings.Record}, summary JSON to {settings.StatsJson ?? "(none)"}");
            return await EngineRunner.RunAsync(settings, Console.Out, Console.Error, ct);
        });
        return cmd;
    }
}
