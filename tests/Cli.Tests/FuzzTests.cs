using CsCheck;
using RealtimeMtl.Tests.Shared;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// Bounded fuzzing of everything the engine reads from disk: random and mutated bytes as video files, images,
/// depth PNGs and ONNX models. Every case must end within its deadline with one clear error (a SourceException or
/// ModelContractException, the ones the CLI turns into one `error:` line and exit 2) or a valid result. A failing
/// input is saved under tests/fuzz-regressions/ and replayed on every run.
/// </summary>
public class FuzzTests
{
    private const int Cases = 40;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private static string Regressions => Path.Combine(Engine.Root, "tests", "fuzz-regressions");

    private static Gen<byte[]> Mutations(byte[] valid) => FuzzInputs.Mutations(valid);
    private static byte[] Flip(byte[] valid, int n, int seed) => FuzzInputs.Flip(valid, n, seed);

    private static bool EndsCleanly(string kind, byte[] input, Action<string> consume, string extension) =>
        FuzzInputs.EndsCleanly(kind, input, consume, extension, e => e is SourceException or ModelContractException, Regressions, Deadline);

    /// <summary>Opens a source and reads up to 5 frames, as the engine does.</summary>
    private static void ReadSource(string spec)
    {
        var source = SourceFactory.Open(spec, new SourceOptions());
        try
        {
            var n = 0;
            using var cts = new CancellationTokenSource(Deadline);
            var e = source.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
            try
            {
                while (n++ < 5 && e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                {
                    using var f = e.Current;
                    Assert.True(f.Image.Width > 0 && f.Image.Height > 0);
                }
            }
            finally { e.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        }
        finally { source.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    private static byte[] ValidVideo()
    {
        var path = Engine.Temp("seed.avi");
        using (var writer = new VideoWriter(path, FourCC.MJPG, 10, new OpenCvSharp.Size(64, 48)))
            for (var i = 0; i < 6; i++)
            {
                using var m = new Mat(48, 64, MatType.CV_8UC3, new Scalar(20 * i, 100, 200));
                writer.Write(m);
            }
        return File.ReadAllBytes(path);
    }

    private static byte[] ValidPng(MatType type, Scalar value)
    {
        using var m = new Mat(24, 32, type, value);
        Cv2.ImEncode(".png", m, out var bytes);
        return bytes;
    }

    private static void Replay(string kind, Action<string> consume, string extension) =>
        FuzzInputs.Replay(kind, b => EndsCleanly(kind, b, consume, extension), Regressions);

    [Fact]
    public void Mutated_video_files_end_with_frames_or_one_clear_error()
    {
        Replay("video", p => ReadSource(p), ".avi");
        Mutations(ValidVideo()).Sample(b => EndsCleanly("video", b, p => ReadSource(p), ".avi"), iter: Cases, threads: 1);
    }

    [Fact]
    public void Mutated_images_in_a_folder_end_with_frames_or_one_clear_error()
    {
        static void Folder(string p)
        {
            var dir = Path.Combine(Path.GetDirectoryName(p)!, "folder");
            Directory.CreateDirectory(dir);
            File.Copy(p, Path.Combine(dir, "000.png"));
            ReadSource(dir);
        }
        Replay("image", Folder, ".png");
        Mutations(ValidPng(MatType.CV_8UC3, new Scalar(10, 200, 30))).Sample(b => EndsCleanly("image", b, Folder, ".png"), iter: Cases, threads: 1);
    }

    [Fact]
    public void Mutated_depth_pngs_end_with_metres_or_one_clear_error()
    {
        static void Depth(string p)
        {
            using var d = DepthImage.LoadPng16(p, 1000);
            Assert.Equal(MatType.CV_32FC1, d.Type());
        }
        Replay("depth", Depth, ".png");
        Mutations(ValidPng(MatType.CV_16UC1, Scalar.All(1500))).Sample(b => EndsCleanly("depth", b, Depth, ".png"), iter: Cases, threads: 1);
    }

    [Fact]
    public void Mutated_onnx_models_end_with_a_working_model_or_one_clear_error()
    {
        static void Load(string p)
        {
            using var model = new OnnxMtlModel(p);
            using var frame = new Mat(48, 64, MatType.CV_8UC3, Scalar.All(90));
            model.SetInput(frame);
            model.Run();
        }
        // The int8 shipped model is the smallest real one (4 MiB): mutations hit its header, graph and weights.
        var valid = File.ReadAllBytes(Path.Combine(Engine.Root, "models", "mtl_ssw_light.int8.onnx"));
        Replay("onnx", Load, ".onnx");
        Mutations(valid).Sample(b => EndsCleanly("onnx", b, Load, ".onnx"), iter: 25, threads: 1);
    }

    [Fact]
    public void Garbage_inputs_through_the_cli_give_one_error_line_and_never_a_stack_trace()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var rng = new Random(7);
        var junk = new byte[3000];
        rng.NextBytes(junk);
        var video = Path.Combine(dir, "junk.mp4");
        File.WriteAllBytes(video, junk);
        var model = Path.Combine(dir, "junk.onnx");
        File.WriteAllBytes(model, Flip(File.ReadAllBytes(Path.Combine(Engine.Root, "models", "mtl_ssw_light.int8.onnx"))[..200_000], 50, 3));
        foreach (var args in new[] { $"run --source {video} --quiet", $"run --source synthetic:frames=2 --model {model} --quiet" })
        {
            var r = Engine.Run(args, timeoutMs: 60_000);
            Assert.True(r.Code == 2, $"{args}: exit {r.Code}\n{r.Stderr}");
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1 && lines[0].StartsWith("error: "), r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
        }
    }
}
