using System.Security.Cryptography;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// Issue 22's data-loss probes, each as a test that failed before its fix: paths through linked folders, odd frame
/// sizes, a failed recording over an existing file, --stats-json on devices and FIFOs, two runs on one target.
/// </summary>
public class NothingLostTests
{
    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static string Clip(string path)
    {
        Assert.Equal(0, Engine.Run($"run --source synthetic:frames=12,size=96x72 --record {path} --quiet").Code);
        return Hash(path);
    }

    [Fact]
    public void A_source_reached_through_a_linked_folder_is_never_recorded_over_in_either_direction()
    {
        var real = Path.GetDirectoryName(Engine.Temp("x"))!;
        var src = Path.Combine(real, "src.mp4");
        var before = Clip(src);
        var link = real + "-link";
        Directory.CreateSymbolicLink(link, real);
        // The record target names the source through the linked folder...
        var r = Engine.Run($"run --max-frames 10 --source {src} --record {Path.Combine(link, "src.mp4")} --quiet");
        Assert.True(r.Code == 2, r.Stderr);
        Assert.Contains("is the source being read", r.Stderr);
        // ...or the source is read through it and the target is the real path; or a hard link names the same file.
        Assert.Equal(2, Engine.Run($"run --max-frames 10 --source {Path.Combine(link, "src.mp4")} --record {src} --quiet").Code);
        var hard = Path.Combine(real, "hard.mp4");
        using (var ln = Process.Start("ln", $"{src} {hard}")!) Assert.True(ln.WaitForExit(10_000) && ln.ExitCode == 0);
        Assert.Equal(2, Engine.Run($"run --max-frames 10 --source {src} --record {hard} --quiet").Code);
        Assert.Equal(before, Hash(src));
    }

    [Fact]
    public void Odd_sized_frames_are_padded_to_even_for_H264_and_said_once()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var images = Directory.CreateDirectory(Path.Combine(dir, "odd")).FullName;
        for (var i = 0; i < 5; i++)
        {
            using var img = new Mat(241, 321, MatType.CV_8UC3, new Scalar(40 * i, 90, 160));
            Cv2.ImWrite(Path.Combine(images, $"f{i}.png"), img);
        }
        var record = Path.Combine(dir, "odd.mp4");
        var r = Engine.Run($"run --source {images} --record {record} --layout overlay --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("pads 321x241 frames with black to 322x242", r.Stderr);
        Assert.Equal(5, Engine.Probe(record).Frames);
        using var cap = new VideoCapture(record);
        Assert.Equal(322, cap.FrameWidth);
        Assert.Equal(242, cap.FrameHeight);
    }

    [Fact]
    public async Task A_recording_that_produces_nothing_leaves_an_existing_file_as_it_was_and_reports_zero_frames()
    {
        var keep = Engine.Temp("keep.mp4");
        var before = Clip(keep);
        // An encoder that dies at once: an ffmpeg on PATH that exits without writing a byte.
        var bin = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(keep)!, "bin")).FullName;
        var fake = Path.Combine(bin, "ffmpeg");
        File.WriteAllText(fake, "#!/bin/sh\nexit 1\n");
        using (var chmod = Process.Start("chmod", $"+x {fake}")!) chmod.WaitForExit(10_000);
        var stats = Path.Combine(Path.GetDirectoryName(keep)!, "s.json");
        var env = new Dictionary<string, string> { ["PATH"] = $"{bin}:/usr/bin:/bin" };
        var r = await Engine.RunAsync($"run --source synthetic:frames=5,size=96x72 --record {keep} --stats-json {stats} --quiet", null, 180_000, env);
        Assert.True(r.Code == 3, $"exit {r.Code}: {r.Stderr}");
        Assert.Equal(before, Hash(keep));
        var rec = JsonDocument.Parse(File.ReadAllText(stats)).RootElement.GetProperty("recording");
        Assert.Equal(0, rec.GetProperty("frames_in_file").GetInt64());
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(keep)!, "keep.recording.mp4")));
    }

    [Fact]
    public async Task Stats_json_writes_through_a_FIFO_and_a_device_and_reports_a_full_one()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var fifo = Path.Combine(dir, "stats.fifo");
        Assert.True(Process.Start("mkfifo", fifo)!.WaitForExit(10_000));
        var read = Task.Run(() => File.ReadAllText(fifo));
        var r = Engine.Run($"run --source synthetic:frames=3,size=96x72 --stats-json {fifo} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        var text = await read.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, JsonDocument.Parse(text).RootElement.GetProperty("frames").GetInt64());
        Assert.Equal("FIFO", Stat(fifo));

        // /dev/full's twin, made here (root only): the full disk is reported (exit 3), the device stays a device.
        var full = Path.Combine(dir, "full");
        if (!(Process.Start("mknod", $"{full} c 1 7") is { } m && m.WaitForExit(10_000) && m.ExitCode == 0)) return;
        var f = Engine.Run($"run --source synthetic:frames=3,size=96x72 --stats-json {full} --quiet");
        Assert.Equal(3, f.Code);
        Assert.Contains("--stats-json", f.Stderr);
        Assert.Contains("No space left", f.Stderr);
        Assert.Equal("character special file", Stat(full));
    }

    private static string Stat(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("stat", $"-c %F {path}") { RedirectStandardOutput = true })!;
        var text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return text.Equals("fifo", StringComparison.OrdinalIgnoreCase) ? "FIFO" : text;
    }

    [Fact]
    public void A_variable_rate_file_is_not_called_truncated_and_its_recording_lasts_as_long_as_the_file()
    {
        // As some cameras and screen recorders write: a 30 FPS time base, every 7th frame kept (43 frames over 9.8 s);
        // the container's estimate (duration x rate) claims about 295 frames.
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var clip = Path.Combine(dir, "vfr.mkv");
        using (var make = Process.Start(new ProcessStartInfo(Engine.Tool("ffmpeg", "ffmpeg"),
                   $"-v error -f lavfi -i testsrc=size=128x96:rate=30 -t 10 -vf select='not(mod(n\\,7))' -fps_mode passthrough -c:v libx264 " +
                       $"-pix_fmt yuv420p -y {clip}")
        { RedirectStandardError = true })!)
        {
            var err = make.StandardError.ReadToEnd();
            Assert.True(make.WaitForExit(60_000) && make.ExitCode == 0, err);
        }
        Assert.Equal(43, Engine.Probe(clip).Frames);
        var record = Path.Combine(dir, "vfr.mp4");
        var r = Engine.Run($"run --source {clip} --record {record} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.DoesNotContain("truncated", r.Stderr);
        Assert.Contains("43 processed frames written", r.Stdout);
        // 9.8 s at 30 FPS, not 43 frames (1.4 s): the gaps repeat the previous frame.
        Assert.InRange(Engine.Probe(record).Frames, 285, 300);
    }

    [Fact]
    public async Task A_second_run_recording_to_the_same_target_is_refused_at_start()
    {
        var target = Engine.Temp("shared.mp4");
        Engine.Result? second = null;
        var first = await Engine.RunAsync($"run --source synthetic:frames=150,size=96x72 --realtime --record {target}", async p =>
        {
            second = await Engine.RunAsync($"run --source synthetic:frames=20,size=96x72 --record {target} --quiet", null);
        });
        Assert.True(first.Code == 0, first.Stderr);
        Assert.NotNull(second);
        Assert.True(second!.Code == 2, $"exit {second.Code}: {second.Stderr}");
        Assert.Contains("another run is recording to it", second.Stderr);
        // The first run's file is whole: a live recording on its time grid, about 150 frames (none from the second run).
        Assert.InRange(Engine.Probe(target).Frames, 130, 170);
    }
}
