using RealtimeMtl.Inference.PostProcessing;

namespace RealtimeMtl.Cli.Tests;

/// <summary>rtmtl eval --video (label-free quality on footage) and --smooth (temporal filtering).</summary>
public class VideoQualityTests
{
    /// <summary>One synthetic still repeated with strong temporal noise and H.264: a static camera in poor light.</summary>
    private static string NoisyStaticClip()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var still = Path.Combine(dir, "still.png");
        var source = new Capture.Synthetic.SyntheticSource(new Capture.Synthetic.SyntheticOptions { Frames = 1, Seed = 5 });
        using (var f = source.RenderFrame(0)) Cv2.ImWrite(still, f.Image);
        var clip = Path.Combine(dir, "static.mp4");
        using var p = Process.Start(new ProcessStartInfo(Engine.Tool("ffmpeg", "ffmpeg"),
            $"-v error -y -loop 1 -i {still} -vf noise=alls=45:allf=t+u -t 2 -r 30 -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p {clip}")
        { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return clip;
    }

    [Fact]
    public void Eval_video_reports_flicker_depth_stability_histogram_and_percentiles_and_smooth_lowers_flicker()
    {
        var clip = NoisyStaticClip();
        var rawJson = Engine.Temp("raw.json");
        var smoothJson = Engine.Temp("smooth.json");
        var raw = Engine.Run($"eval --video {clip} --max-frames 60 --json {rawJson}");
        Assert.True(raw.Code == 0, raw.Stderr);
        Assert.Contains("flicker", raw.Stdout);
        var smooth = Engine.Run($"eval --video {clip} --max-frames 60 --smooth --json {smoothJson}");
        Assert.True(smooth.Code == 0, smooth.Stderr);
        var a = JsonDocument.Parse(File.ReadAllText(rawJson)).RootElement;
        var b = JsonDocument.Parse(File.ReadAllText(smoothJson)).RootElement;
        Assert.Equal(60, a.GetProperty("frames").GetInt32());
        var shares = a.GetProperty("class_shares").EnumerateObject().Sum(p => p.Value.GetDouble());
        Assert.Equal(1.0, shares, 2);
        var p = a.GetProperty("depth_percentiles_m");
        Assert.True(p.GetProperty("p5").GetDouble() <= p.GetProperty("p50").GetDouble() && p.GetProperty("p50").GetDouble() <=
            p.GetProperty("p95").GetDouble());
        double fa = a.GetProperty("label_flicker").GetDouble(), fb = b.GetProperty("label_flicker").GetDouble();
        Assert.InRange(fa, 0.001, 1);
        // On a static camera, temporal filtering must cut the flicker (to under half here) and steady the depth.
        Assert.True(fb < fa / 2, $"flicker {fa:P2} -> {fb:P2} with --smooth");
        Assert.True(b.GetProperty("depth_relative_change").GetDouble() < a.GetProperty("depth_relative_change").GetDouble());
    }

    [Fact]
    public void Eval_video_of_a_missing_file_is_one_error_line_and_exit_2()
    {
        var r = Engine.Run("eval --video /nonexistent/street.mp4");
        Assert.Equal(2, r.Code);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("/nonexistent/street.mp4", r.Stderr);
    }

    [Fact]
    public void Eval_is_one_entry_that_picks_its_mode_from_the_parsed_options()
    {
        // --video=FILE is the video mode (an earlier script looked for the substring " --video " and missed it).
        var video = Engine.Run("eval --video=/nonexistent/clip.mp4");
        Assert.Equal(2, video.Code);
        Assert.Contains("video file '/nonexistent/clip.mp4' does not exist", video.Stderr);
        // --onnx=FILE is the labelled mode: the same arguments reach rtmtl-train, whose figures and exit code come back.
        var labelled = Engine.Run("eval --onnx=models/mtl_ssw_light.onnx --dataset synthetic --samples 2");
        Assert.True(labelled.Code == 0, labelled.Stderr);
        Assert.Matches(@"model:\s+mIoU \d+\.\d\d %", labelled.Stdout);
        Assert.Contains("synthetic(seed=1,test), 2 samples", labelled.Stdout);
        var missing = Engine.Run("eval --run /nonexistent/run");
        Assert.Equal(2, missing.Code);
        Assert.Contains("/nonexistent/run", missing.Stderr);
        // Both modes at once, neither, or an option of the other mode: one parse error, exit 2.
        foreach (var (args, says) in new[]
        {
            ("eval --video a.mp4 --onnx b.onnx", "not both"),
            ("eval", "say what to evaluate"),
            ("eval --video a.mp4 --split val", "--split belongs to the labelled mode"),
            ("eval --onnx b.onnx --smooth", "--smooth belongs to --video"),
        })
        {
            var r = Engine.Run(args);
            Assert.Equal(2, r.Code);
            Assert.Contains(says, r.Stderr);
        }
    }

    [Fact]
    public void The_smoother_holds_a_wavering_pixel_follows_a_confident_change_and_resets_on_a_cut()
    {
        var smoother = new TemporalSmoother();
        using var labels = new Mat(4, 4, MatType.CV_8UC1, Scalar.All(1));
        using var depth = new Mat(4, 4, MatType.CV_32FC1, Scalar.All(2.0));
        using var conf = new Mat(4, 4, MatType.CV_32FC1, Scalar.All(0.6));
        smoother.Apply(labels, depth, conf);
        // Pixel (0,0) wavers to class 2 with lower confidence: it stays 1.
        labels.Set(0, 0, (byte)2); conf.Set(0, 0, 0.5f);
        smoother.Apply(labels, depth, conf);
        Assert.Equal(1, labels.At<byte>(0, 0));
        // A confident change wins at once.
        labels.Set(0, 0, (byte)3); conf.Set(0, 0, 0.9f);
        smoother.Apply(labels, depth, conf);
        Assert.Equal(3, labels.At<byte>(0, 0));
        // Depth moves towards a new value instead of jumping to it.
        depth.Set(1, 1, 2.4f);
        smoother.Apply(labels, depth, conf);
        Assert.InRange(depth.At<float>(1, 1), 2.01f, 2.39f);
        // A scene cut (every pixel a new class) resets: the new frame passes unchanged.
        labels.SetTo(Scalar.All(7)); conf.SetTo(Scalar.All(0.1));
        smoother.Apply(labels, depth, conf);
        Assert.Equal(7, labels.At<byte>(2, 2));
        Assert.Equal(1, smoother.Resets);
    }

    /// <summary>A real street photograph (Debian's opencv-doc, bench/real-photos.sh) animated by bench/photo-clip.sh.</summary>
    private static string StreetClip(string motion, int frames)
    {
        var photos = Script("real-photos.sh", Path.Combine(Path.GetTempPath(), "rtmtl-photos"));
        var clip = Engine.Temp($"street-{motion}.mp4");
        Script("photo-clip.sh", $"{Path.Combine(photos, "leuvenA.jpg")} {motion} {clip} {frames}");
        return clip;
    }

    private static string Script(string name, string args)
    {
        Engine.Tool("ffmpeg", "ffmpeg");
        using var p = Process.Start(new ProcessStartInfo("bash", $"{Path.Combine(Engine.Root, "bench", name)} {args}")
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"bench/{name} {args}: {stderr}");
        return stdout.Trim();
    }

    private static JsonElement Eval(string source, int frames, string smooth)
    {
        var json = Engine.Temp($"eval-{Guid.NewGuid():N}.json");
        var r = Engine.Run($"eval --video {source} --max-frames {frames} --smooth {smooth} --json {json}");
        Assert.True(r.Code == 0, r.Stderr);
        return JsonDocument.Parse(File.ReadAllText(json)).RootElement;
    }

    [Fact]
    public void On_an_animated_real_photograph_flow_fusion_cuts_the_flicker_along_the_motion()
    {
        // The street does not change: every class change along the camera's motion is noise. The fusion must take
        // it well below the unfused output's (to under 60 % of it) on a pan and on a still camera.
        foreach (var motion in new[] { "pan", "static" })
        {
            var clip = StreetClip(motion, 45);
            var off = Eval(clip, 45, "off");
            var flow = Eval(clip, 45, "flow");
            double a = off.GetProperty("label_flicker_along_flow").GetDouble(), b = flow.GetProperty("label_flicker_along_flow").GetDouble();
            Assert.True(a > 0.005, $"{motion}: the unfused output flickers only {a:P2} along the motion; the clip is too easy to tell");
            Assert.True(b < 0.6 * a, $"{motion}: flicker along the motion {a:P2} unfused, {b:P2} fused");
            Assert.Equal("flow", flow.GetProperty("smooth").GetString());
        }
    }

    [Fact]
    public void On_a_walk_with_ground_truth_flow_fusion_steadies_labels_without_costing_accuracy_or_smearing_boundaries()
    {
        const string walk = "synthetic:world=randomised,motion=walk,seed=3,frames=40,size=256x192";
        var off = Eval(walk, 40, "off");
        var flow = Eval(walk, 40, "flow");
        double F(JsonElement e, string k) => e.GetProperty(k).GetDouble();
        Assert.True(F(flow, "label_flicker_along_flow") < 0.7 * F(off, "label_flicker_along_flow"),
            $"flicker along the flow {F(off, "label_flicker_along_flow"):P2} -> {F(flow, "label_flicker_along_flow"):P2}");
        Assert.True(F(flow, "mean_iou") >= F(off, "mean_iou") - 0.005, $"mIoU {F(off, "mean_iou"):P2} -> {F(flow, "mean_iou"):P2}");
        Assert.True(F(flow, "boundary_error") <= F(off, "boundary_error") + 0.005,
            $"label error within 3 px of boundaries {F(off, "boundary_error"):P2} -> {F(flow, "boundary_error"):P2}");
    }

    [Fact]
    public void Each_camera_has_its_own_fusion_state()
    {
        // A still camera and one turning fast, together under --smooth, give each the labels it gives alone.
        const string still = "synthetic:world=randomised,motion=static,seed=1,frames=20,size=256x192";
        const string turning = "synthetic:world=randomised,motion=turns,seed=2,frames=20,size=256x192";
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var together = Engine.Run($"run --source still={still} --source turning={turning} --smooth --batch 1 --save-raw {dir}/both -q");
        Assert.True(together.Code == 0, together.Stderr);
        foreach (var (name, spec) in new[] { ("still", still), ("turning", turning) })
        {
            var alone = Engine.Run($"run --source {name}={spec} --smooth --save-raw {dir}/{name} -q");
            Assert.True(alone.Code == 0, alone.Stderr);
            var files = Directory.GetFiles(Path.Combine(dir, name), "*_labels.png", SearchOption.AllDirectories).OrderBy(f => f).ToArray();
            var pair = Directory.GetFiles(Path.Combine(dir, "both", name), "*_labels.png").OrderBy(f => f).ToArray();
            Assert.Equal(20, files.Length);
            Assert.Equal(files.Select(Path.GetFileName), pair.Select(Path.GetFileName));
            for (var i = 0; i < files.Length; i++)
            {
                using var a = Cv2.ImRead(files[i], ImreadModes.Unchanged);
                using var b = Cv2.ImRead(pair[i], ImreadModes.Unchanged);
                using var diff = new Mat();
                Cv2.Compare(a, b, diff, CmpTypes.NE);
                Assert.True(Cv2.CountNonZero(diff) < 0.002 * a.Rows * a.Cols,
                    $"{name} frame {i}: {Cv2.CountNonZero(diff)} pixels differ from the camera alone");
            }
        }
    }
}
