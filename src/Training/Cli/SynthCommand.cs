using System.CommandLine;
using OpenCvSharp;
using RealtimeMtl.Capture.Synthetic;

namespace RealtimeMtl.Training.Cli;

internal static class SynthCommand
{
    public static Command Build()
    {
        var outDir = new Option<string?>("--out") { Description = "Folder to write (image/, depth/ PNG16 mm, labels/ PNG8): an nyu: sequence" };
        var grid = new Option<string?>("--grid")
        {
            Description =
            "Instead: write a picture grid of --count random stills (4 per row) to this PNG, for judging realism"
        };
        var count = new Option<int>("--count") { Description = "Number of frames", DefaultValueFactory = _ => 100 };
        var size = new Option<string>("--size") { Description = "WxH", DefaultValueFactory = _ => "320x240" };
        var seed = new Option<int>("--seed") { Description = "World seed", DefaultValueFactory = _ => 1 };
        var walk = new Option<bool>("--walk") { Description = "A camera walk through one room (default: independent stills)" };
        var noise = new Option<bool>("--noise") { Description = "Sensor-like depth noise and holes" };
        var world = new Option<string>("--world")
        {
            Description =
            "classic (NYU's camera, one lamp) or randomised (domain randomisation for sim-to-real training: surfaces, lights, soft shadows, " +
                "clutter, field of view, camera pose, lens and sensor effects)", DefaultValueFactory = _ => "randomised"
        };
        var cmd = new Command("synth", """
            Write synthetic RGB-D frames in the NYU folder layout (read back with --source nyu:DIR).
            Examples:
              ./rtmtl synth --out data/walk --count 300 --walk
              ./rtmtl synth --grid out/stills.png --count 12
              ./rtmtl synth --grid out/classic.png --count 12 --world classic
            """) { outDir, grid, count, size, seed, walk, noise, world };
        cmd.SetAction(r =>
        {
            var wh = r.GetValue(size)!.Split('x');
            if (wh.Length != 2 || !int.TryParse(wh[0], out var w) || !int.TryParse(wh[1], out var h) || w < 16 || h < 16 || w > 4096 || h > 4096)
                throw new ArgumentException($"--size '{r.GetValue(size)}' must look like 320x240 (from 16x16 to 4096x4096)");
            var n = r.GetValue(count);
            if (n < 1) throw new ArgumentException("--count must be at least 1");
            var randomised = r.GetValue(world) switch
            {
                "randomised" => true,
                "classic" => false,
                var v => throw new ArgumentException($"--world '{v}': use classic or randomised")
            };
            if (r.GetValue(grid) is { } gridPath) return Grid(gridPath, n, w, h, r.GetValue(seed), r.GetValue(noise), randomised);
            var dir = r.GetValue(outDir) ?? throw new ArgumentException("give --out DIR (a sequence) or --grid FILE.png (a picture of stills)");
            foreach (var sub in new[] { "image", "depth", "labels" }) OutputFolder.Ensure(Path.Combine(dir, sub), "--out");
            var src = r.GetValue(walk) ? new SyntheticSource(new SyntheticOptions
            {
                Seed = r.GetValue(seed), Frames = n, Width = w, Height = h,
                DepthNoise = r.GetValue(noise), Randomised = randomised
            }) : null;
            for (var i = 0; i < n; i++)
            {
                using var image = new Mat(); using var depth = new Mat(); using var labels = new Mat();
                if (src is not null)
                {
                    using var f = src.RenderFrame(i);
                    f.Image.CopyTo(image); f.Depth!.CopyTo(depth); f.Labels!.CopyTo(labels);
                }
                else SyntheticWorld.RenderStill(r.GetValue(seed), i, w, h, image, depth, labels, r.GetValue(noise), randomised);
                using var mm = new Mat();
                depth.ConvertTo(mm, MatType.CV_16UC1, 1000.0);
                var stem = i.ToString("D6");
                Cv2.ImWrite(Path.Combine(dir, "image", stem + ".png"), image);
                Cv2.ImWrite(Path.Combine(dir, "depth", stem + ".png"), mm);
                Cv2.ImWrite(Path.Combine(dir, "labels", stem + ".png"), labels);
            }
            Console.WriteLine($"wrote {n} frames to {dir}");
            return 0;
        });
        return cmd;
    }

    /// <summary>A grid of independent stills, four per row: image, then the next still.</summary>
    private static int Grid(string path, int count, int w, int h, int seed, bool noise, bool randomised)
    {
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--grid '{path}' must be a .png or .jpg file name");
        OutputFolder.EnsureParent(path, "--grid");
        const int perRow = 4;
        var rows = (count + perRow - 1) / perRow;
        using var canvas = new Mat(rows * h, perRow * w, MatType.CV_8UC3, Scalar.All(0));
        for (var i = 0; i < count; i++)
        {
            using var image = new Mat(); using var depth = new Mat(); using var labels = new Mat();
            SyntheticWorld.RenderStill(seed, i, w, h, image, depth, labels, noise, randomised);
            using var cell = new Mat(canvas, new Rect(i % perRow * w, i / perRow * h, w, h));
            image.CopyTo(cell);
        }
        Cv2.ImWrite(path, canvas);
        Console.WriteLine($"wrote {path}: {count} stills of the {(randomised ? "randomised" : "classic")} world ({w}x{h}, seed {seed}), {perRow} " +
            $"per row");
        return 0;
    }
}
