using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Playwright;

namespace RealtimeMtl.Cli.Tests;

/// <summary>Recordings play everywhere, keep wall-clock time, survive a kill, and never destroy data.</summary>
public class RecordingTests
{

    private static string Codec(string path)
    {
        using var p = Process.Start(new ProcessStartInfo(Engine.Tool("ffprobe", "ffmpeg"),
            $"-v error -select_streams v:0 -show_entries stream=codec_name,pix_fmt -of csv=p=0 \"{path}\"")
        { RedirectStandardOutput = true })!;
        var s = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return s;
    }

    [Fact]
    public async Task Chromium_plays_a_recording_to_the_end_and_its_duration_is_the_frames_over_the_rate()
    {
        var record = Engine.Temp("played.mp4");
        var r = Engine.Run($"run --source synthetic:frames=45,size=160x120 --record {record} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Equal("h264,yuv420p", Codec(record));
        Assert.False(File.Exists(Path.ChangeExtension(record, ".recording.mp4")), "the temporary file must be renamed");
        var page = Path.Combine(Path.GetDirectoryName(record)!, "play.html");
        File.WriteAllText(page, "<!doctype html><video id=v src=\"played.mp4\" muted playsinline></video>");
        var chromium = Engine.Tool("chromium", "chromium");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox",
            "--disable-gpu", "--autoplay-policy=no-user-gesture-required"]
        });
        var tab = await browser.NewPageAsync();
        await tab.GotoAsync("file://" + page);
        var result = await tab.EvaluateAsync<double[]>("""
            () => new Promise(done => {
              const v = document.getElementById('v');
              const fail = () => done([-1, v.error ? v.error.code : 0]);
              v.onerror = fail;
              v.onended = () => done([v.duration, v.currentTime]);
              setTimeout(() => done([-2, v.readyState]), 20000);
              v.play().catch(fail);
            })
            """);
        Assert.True(result[0] > 0, $"the video did not play to its end: {string.Join(", ", result)}");
        Assert.Equal(45 / 30.0, result[0], 0.034);
    }

    [Fact]
    public void A_live_run_with_a_stalled_source_records_at_the_source_rate_and_lasts_as_long_as_the_run()
    {
        var record = Engine.Temp("stall.mp4");
        var stats = Engine.Temp("stall.json");
        // 60 frames at 30 FPS with a one-second stall before frame 20: 2 s of frames plus 1 s of stall.
        var r = Engine.Run($"run --source synthetic:frames=60,size=96x72,fps=30,stall=20:1.0 --realtime --record {record} --stats-json {stats} " +
            $"--quiet");
        Assert.True(r.Code == 0, r.Stderr);
        var (frames, fps) = Engine.Probe(record);
        Assert.Equal(30, fps, 3);
        var rec = JsonDocument.Parse(File.ReadAllText(stats)).RootElement.GetProperty("recording");
        var processed = rec.GetProperty("frames_written").GetInt64();
        var repeated = rec.GetProperty("frames_repeated").GetInt64();
        Assert.Equal(frames, rec.GetProperty("frames_in_file").GetInt64());
        Assert.Equal(frames, processed + repeated);
        // The stall (and any frame dropped on a busy machine) becomes repeated slots, so the file lasts about 3 s,
        // as the run did: 60 frames at 30 FPS plus 1 s of stall, within a frame or two.
        var root = JsonDocument.Parse(File.ReadAllText(stats)).RootElement;
        Assert.Equal(60, root.GetProperty("frames").GetInt64() + root.GetProperty("dropped_at_source").GetInt64());
        Assert.Equal(root.GetProperty("frames").GetInt64(), processed + rec.GetProperty("frames_skipped").GetInt64());
        Assert.True(repeated >= 27, $"repeated {repeated}");
        // The file lasts as long as the capture did (a loaded machine may stretch the run beyond 3 s; the file follows).
        var captured = rec.GetProperty("captured_seconds").GetDouble();
        // It holds the 1 s stall: about 3 s, less a frame interval for each frame a busy machine dropped at the end.
        var dropped = root.GetProperty("dropped_at_source").GetInt64();
        Assert.True(captured >= 2.9 - dropped / 30.0, $"captured {captured:0.000} s with {dropped} dropped");
        Assert.InRange(frames, Math.Round(captured * 30) + 1 - 3, Math.Round(captured * 30) + 1 + 3);
        Assert.Contains("repeated", r.Stdout);
    }

    [Fact]
    public async Task A_recording_killed_with_sigkill_decodes_all_but_at_most_its_last_second()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var record = Path.Combine(dir, "killed.mp4");
        var raw = Path.Combine(dir, "raw");
        var ran = TimeSpan.Zero;
        await Engine.RunAsync($"run --source synthetic:frames=100000,size=160x120 --realtime --record {record} --save-raw {raw}", async p =>
        {
            // Enough frames for several fragments of the recording, counted by the raw sink, not guessed by a sleep.
            await Engine.Until(() => Engine.RawFrames(raw) >= 60, "60 raw frames");
            Signals.Send(p.Id, 9);
            ran = DateTime.Now - p.StartTime; // the recording's bound: no frame was recorded before the process started
        });
        var partial = Path.Combine(dir, "killed.recording.mp4");
        Assert.True(File.Exists(partial), "the recording in progress must be on disk under its temporary name");
        // Raw outputs are a second, slower lossless sink: they bound the frames processed from below.
        var processed = Directory.GetFiles(raw, "*.json").Length;
        Assert.True(processed > 10, $"only {processed} frames processed");
        var (decoded, fps) = Engine.Probe(partial);
        Assert.Equal(30, fps, 3);
        // At most the last one-second fragment (30 frames) and the frames still in flight are lost; and no more
        // than 4 s of frames at 30 FPS can have been recorded.
        Assert.True(decoded >= processed - 30 - 8, $"decoded {decoded} of at least {processed} processed");
        Assert.InRange(decoded, 1, (ran.TotalSeconds + 0.5) * 30);
    }

    [Fact]
    public void A_full_disk_stops_the_recorder_with_one_line_exit_3_and_what_was_written_plays()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var small = Path.Combine(dir, "small");
        Directory.CreateDirectory(small);
        var mounted = Process.Start("mount", $"-t tmpfs -o size=400k tmpfs {small}") is { } m && m.WaitForExit(10_000) && m.ExitCode == 0;
        try
        {
            var record = Path.Combine(small, "full.mp4");
            if (!mounted)
            {
                // Not root: the same failure through /dev/full (every write fails with ENOSPC).
                File.CreateSymbolicLink(Path.Combine(small, "full.recording.mp4"), "/dev/full");
            }
            var stats = Path.Combine(dir, "full.json");
            var r = Engine.Run($"run --source synthetic:frames=300,size=320x240,world=classic --record {record} --stats-json {stats} --quiet");
            Assert.True(r.Code == 3, $"exit {r.Code}\n{r.Stderr}");
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, r.Stderr);
            Assert.Contains("sink record", lines[0]);
            Assert.Contains("No space left", lines[0]);
            Assert.Equal(1, JsonDocument.Parse(File.ReadAllText(stats)).RootElement.GetProperty("sink_errors").GetProperty("record").GetInt64());
            Assert.Equal(300, Engine.SummaryFrames(r.Stdout));
            if (mounted)
            {
                // The fragments written before the disk filled are at the target's name and play.
                var (frames, _) = Engine.Probe(record);
                Assert.InRange(frames, 1, 299);
            }
        }
        finally
        {
            if (mounted) Process.Start("umount", small)?.WaitForExit(10_000);
        }
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void Recording_onto_the_source_is_refused_and_the_source_is_unchanged()
    {
        var source = Engine.Temp("s.mp4");
        Assert.Equal(0, Engine.Run($"run --source synthetic:frames=10,size=96x72 --record {source} --quiet").Code);
        var before = Hash(source);
        var r = Engine.Run($"run --source {source} --record {source}");
        Assert.Equal(2, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("is the source being read", lines[0]);
        Assert.Equal(before, Hash(source));
        // Through a symbolic link, and as raw output or stats, too.
        var link = Path.Combine(Path.GetDirectoryName(source)!, "link.mp4");
        File.CreateSymbolicLink(link, source);
        Assert.Equal(2, Engine.Run($"run --source {source} --record {link}").Code);
        Assert.Equal(2, Engine.Run($"run --source {source} --stats-json {source}").Code);
        Assert.Equal(before, Hash(source));
        // Two outputs on one path.
        var both = Engine.Temp("both.mp4");
        Assert.Equal(2, Engine.Run($"run --source synthetic:frames=3 --record {both} --stats-json {both}").Code);
    }

    [Fact]
    public void A_failed_start_leaves_an_existing_recording_byte_identical()
    {
        var precious = Engine.Temp("precious.mp4");
        Assert.Equal(0, Engine.Run($"run --source synthetic:frames=10,size=96x72 --record {precious} --quiet").Code);
        var before = Hash(precious);
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var r = Engine.Run($"run --source synthetic:frames=20 --serve 127.0.0.1:{port} --record {precious}");
        Assert.Equal(2, r.Code);
        Assert.Equal(before, Hash(precious));
        Assert.False(File.Exists(Path.ChangeExtension(precious, ".recording.mp4")));
    }

    [Fact]
    public void A_bad_stats_json_path_fails_at_start_with_one_line_and_writes_nothing()
    {
        var record = Engine.Temp("never.mp4");
        var clock = Stopwatch.StartNew();
        var r = Engine.Run($"run --source synthetic:frames=100000 --record {record} --stats-json /nonexistent/dir/s.json");
        Assert.Equal(2, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("--stats-json", lines[0]);
        Assert.Contains("/nonexistent/dir", lines[0]);
        Assert.False(File.Exists(record));
        Assert.Equal("", r.Stdout.Trim());
    }

    [Fact]
    public void Stats_json_dash_writes_the_summary_as_json_to_stdout()
    {
        var r = Engine.Run("run --source synthetic:frames=3,size=96x72 --stats-json - --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Equal(3, JsonDocument.Parse(r.Stdout).RootElement.GetProperty("frames").GetInt64());
    }

    [Trait("Flavour", "gpu")]
    [Fact]
    public async Task Without_the_ffmpeg_program_the_recording_falls_back_to_opencv_with_one_line()
    {
        var record = Engine.Temp("fallback.mp4");
        var r = await Engine.RunAsync($"run --source synthetic:frames=10,size=96x72 --record {record} --quiet", null,
            environment: new Dictionary<string, string> { ["PATH"] = "/nonexistent" });
        Assert.True(r.Code == 0, r.Stderr);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("ffmpeg program was not found", lines[0]);
        Assert.StartsWith("mpeg4", Codec(record));
        Assert.Equal(10, Engine.Probe(record).Frames);
    }

    [Trait("Flavour", "gpu")]
    [Theory]
    [InlineData("clip.mkv", "h264")]
    [InlineData("clip.avi", "mjpeg")]
    public void Mkv_is_h264_and_avi_is_mjpg_with_every_frame(string name, string codec)
    {
        var record = Engine.Temp(name);
        var r = Engine.Run($"run --source synthetic:frames=12,size=96x72 --record {record} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.StartsWith(codec, Codec(record));
        Assert.Equal(12, Engine.Probe(record).Frames);
    }
}
