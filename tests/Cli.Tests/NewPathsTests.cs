using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// Nothing lost on the new paths (fleets, MCAP, streams, full outputs, messages): each test is a probe that failed
/// before its fix, checked against a real peer where one exists (@mcap/core with its zstd and lz4 handlers, a real
/// ffmpeg sender, Python's http.server).
/// </summary>
public class NewPathsTests
{
    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static string Dir() => Path.GetDirectoryName(Engine.Temp("x"))!;

    private static JsonElement ReadMcap(string mcap)
    {
        var readers = Path.Combine(Engine.Root, "tests", "clients", "foxglove");
        Assert.True(Directory.Exists(Path.Combine(readers, "node_modules", "@foxglove", "wasm-zstd")),
            "npm @foxglove/wasm-zstd missing: ./rtmtl test installs it (npm ci in tests/clients/foxglove)");
        var (code, output) = ServingTests.RunTool(Engine.Tool("node", "nodejs"), $"read-mcap.mjs {mcap}", readers);
        Assert.True(code == 0, output);
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
    }

    [Fact]
    public void A_fleet_files_record_path_on_another_cameras_source_is_refused_and_the_source_kept()
    {
        var dir = Dir();
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        var clip = Path.Combine(dir, "sub", "clip.mp4");
        Assert.Equal(0, Engine.Run($"run --source synthetic:frames=8,size=96x72 --record {clip} --quiet").Code);
        var before = Hash(clip);
        var fleet = Path.Combine(dir, "fleet.yaml");
        File.WriteAllText(fleet, "cameras: [{name: a, source: sub/clip.mp4}, {name: b, source: \"synthetic:frames=10\", record: sub/clip.mp4}]\n");
        var r = Engine.Run($"run --cameras {fleet} --quiet");
        Assert.True(r.Code == 2, r.Stderr);
        Assert.Contains("camera b's record: ", r.Stderr);
        Assert.Contains("camera a's source", r.Stderr);
        Assert.Equal(before, Hash(clip));
        // Two cameras recording to one file: said as such, not as "another run is recording".
        File.WriteAllText(fleet,
            "cameras:\n  - {name: a, source: 'synthetic:frames=3', record: same.mp4}\n  - {name: b, source: 'synthetic:frames=3', record: "
                + "same.mp4}\n");
        r = Engine.Run($"run --cameras {fleet} --quiet");
        Assert.True(r.Code == 2, r.Stderr);
        Assert.Contains("name the same path", r.Stderr);
        Assert.DoesNotContain("another run", r.Stderr);
    }

    [Fact]
    public void A_fleet_file_in_plain_yaml_runs_and_an_empty_one_says_it_lists_no_camera()
    {
        var dir = Dir();
        var fleet = Path.Combine(dir, "fleet.yaml");
        File.WriteAllText(fleet, "cameras:\n  - name: a\n    source: synthetic:frames=4,size=96x72\n");
        var r = Engine.Run($"run --cameras {fleet} --quiet");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("frames  4 processed", r.Stdout);
        File.WriteAllText(fleet, "{\"cameras\":[]}");
        r = Engine.Run($"run --cameras {fleet}");
        Assert.Equal(2, r.Code);
        Assert.Contains("lists no camera", r.Stderr);
        Assert.DoesNotContain("Index was out of range", r.Stderr);
    }

    [Fact]
    public async Task A_second_run_on_the_same_mcap_or_raw_folder_is_refused_and_the_first_ones_file_reads_whole()
    {
        var dir = Dir();
        var mcap = Path.Combine(dir, "m.mcap");
        var raw = Path.Combine(dir, "raw");
        string? second = null, third = null;
        var overlapped = false;
        var first = await Engine.RunAsync($"run --source synthetic:frames=200,fps=20,size=96x72 --realtime --record-mcap {mcap} --save-raw {raw} "
            + $"--stats-json {Path.Combine(dir, "s.json")}", async p =>
        {
            var r = await Engine.RunAsync($"run --source synthetic:frames=5,size=96x72 --record-mcap {mcap} --quiet", null);
            second = $"{r.Code} {r.Stderr}";
            r = await Engine.RunAsync($"run --source synthetic:frames=5,size=96x72 --save-raw {raw} --quiet", null);
            third = $"{r.Code} {r.Stderr}";
            overlapped = !p.HasExited;
        });
        Assert.True(overlapped, "the second and third runs started while the first was still running");
        Assert.True(first.Code == 0, first.Stderr);
        Assert.StartsWith("2 ", second);
        Assert.Contains("another run is recording to it now", second);
        Assert.StartsWith("2 ", third);
        Assert.Contains("another run is writing into this folder", third);
        var m = ReadMcap(mcap);
        // Every frame the first run processed is in its file and its folder, none of the others' (live: some may drop
        // at the source on a busy machine, and the summary counts them).
        var processed = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "s.json"))).RootElement.GetProperty("frames").GetInt64();
        Assert.Equal(processed, m.GetProperty("counts").GetProperty("/rtmtl/depth").GetInt64());
        Assert.Equal(processed, Engine.RawFrames(raw));
        Assert.False(File.Exists(Path.Combine(raw, RealtimeMtl.Common.Files.FolderLock.FileName)), "the folder's lock file goes with the run");
    }

    [Fact]
    public void Mcap_chunks_are_compressed_as_asked_and_the_reference_reader_decodes_them()
    {
        var dir = Dir();
        var sizes = new Dictionary<string, long>();
        foreach (var compression in new[] { "none", "zstd", "lz4" })
        {
            var mcap = Path.Combine(dir, $"{compression}.mcap");
            var args = compression == "lz4" ? "" : $"--mcap-compression {compression}"; // lz4 is the default
            var r = Engine.Run($"run --source synthetic:frames=20,size=160x120 --record-mcap {mcap} {args} --quiet");
            Assert.True(r.Code == 0, r.Stderr);
            var m = ReadMcap(mcap);
            Assert.Equal(compression == "none" ? "" : compression, Assert.Single(m.GetProperty("compression").EnumerateArray()).GetString());
            Assert.Equal(20, m.GetProperty("counts").GetProperty("/rtmtl/image").GetInt64());
            Assert.Equal(160, m.GetProperty("first").GetProperty("/rtmtl/depth").GetProperty("width").GetInt32());
            sizes[compression] = new FileInfo(mcap).Length;
        }
        // The same 20 frames take less room compressed.
        Assert.True(sizes["zstd"] < sizes["none"] * 0.8, string.Join(", ", sizes));
        Assert.True(sizes["lz4"] < sizes["none"] * 0.9, string.Join(", ", sizes));
        Assert.Equal(2, Engine.Run("run --source synthetic:frames=2 --record-mcap x.mcap --mcap-compression brotli").Code);
    }

    [Fact]
    public async Task A_folder_swapped_for_a_link_mid_run_leaves_the_recording_where_it_is_and_the_summary_says_where()
    {
        var dir = Dir();
        var src = Path.Combine(dir, "srcdir");
        Directory.CreateDirectory(src);
        Directory.CreateDirectory(Path.Combine(dir, "swap"));
        var clip = Path.Combine(src, "src.mp4");
        Assert.Equal(0, Engine.Run($"run --source synthetic:frames=40,fps=10,size=96x72 --record {clip} --quiet").Code);
        var before = Hash(clip);
        var json = Path.Combine(dir, "s.json");
        var r = await Engine.RunAsync($"run --source {clip} --realtime --record swap/src.mp4 --stats-json {json}", async p =>
        {
            await Task.Yield();
            Directory.Move(Path.Combine(dir, "swap"), Path.Combine(dir, "swap.old"));
            Directory.CreateSymbolicLink(Path.Combine(dir, "swap"), src);
        }, workingDirectory: dir);
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Equal(before, Hash(clip));
        var kept = Path.Combine(dir, "swap.old", "src.recording.mp4");
        Assert.Contains($"the recording was left at '{kept}'", r.Stderr);
        var summary = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(kept, summary.GetProperty("recording").GetProperty("path").GetString());
        Assert.Equal(kept, summary.GetProperty("outputs").GetProperty("recording").GetString());
        Assert.True(Engine.Probe(kept).Frames > 0);
    }

    /// <summary>Python's http.server on a free port serving <paramref name="dir"/>; its log lines (one per request).</summary>
    private static (Process Server, int Port, StringBuilder Log) HttpServer(string dir)
    {
        var port = Engine.FreePort();
        var psi = new ProcessStartInfo(Engine.Tool("python3", "python3"), $"-m http.server {port} --bind 127.0.0.1")
        {
            WorkingDirectory = dir,
            RedirectStandardError = true, RedirectStandardOutput = true
        };
        var p = Process.Start(psi)!;
        var log = new StringBuilder();
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        var sw = Stopwatch.StartNew();
        while (!Engine.IsListening(port) && sw.ElapsedMilliseconds < 10_000) Thread.Sleep(50);
        return (p, port, log);
    }

    [Fact]
    public void An_mpeg_ts_file_over_http_is_read_once_as_a_file_and_a_server_that_answers_with_no_video_is_named_as_such()
    {
        var dir = Dir();
        var ffmpeg = Engine.Tool("ffmpeg", "ffmpeg");
        var (code, output) = ServingTests.RunTool(ffmpeg, "-v error -y -f lavfi -i testsrc=size=160x120:rate=20 -t 3 -c:v mpeg2video good.ts", dir);
        Assert.True(code == 0, output);
        File.WriteAllText(Path.Combine(dir, "notes.ts"), "this is not a video\n");
        var (server, port, log) = HttpServer(dir);
        try
        {
            var record = Path.Combine(dir, "out.mp4");
            var r = Engine.Run($"run --source http://127.0.0.1:{port}/good.ts --record {record} --quiet", 120_000);
            Assert.True(r.Code == 0, r.Stderr);
            Assert.Contains("frames  60 processed, 0 dropped", r.Stdout);
            Assert.Equal(60, Engine.Probe(record).Frames);
            string requests;
            lock (log) requests = log.ToString();
            Assert.Equal(1, requests.Split('\n').Count(l => l.Contains("GET /good.ts")));
            // The server answered (200) but the file is no video: ffmpeg's words, not a network fault.
            r = Engine.Run($"run --source http://127.0.0.1:{port}/notes.ts --quiet", 120_000);
            Assert.Equal(2, r.Code);
            Assert.Contains("ffmpeg says", r.Stderr);
            Assert.DoesNotContain("refused, unreachable", r.Stderr);
        }
        finally { server.Kill(true); server.Dispose(); }
    }

    /// <summary>Starts rtmtl through a wrapper (a shell, setsid) and waits for its readiness line; its stderr as it comes.</summary>
    private static async Task<(Process Engine, StringBuilder Stderr)> StartWatchedAsync(string exe, string args)
    {
        var engine = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var err = new StringBuilder();
        var firstFrame = new TaskCompletionSource();
        engine.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            if (e.Data.StartsWith("first frame out", StringComparison.Ordinal)) firstFrame.TrySetResult();
        };
        engine.OutputDataReceived += (_, _) => { };
        engine.BeginErrorReadLine();
        engine.BeginOutputReadLine();
        await Task.WhenAny(firstFrame.Task, Task.Delay(60_000));
        return (engine, err);
    }

    [Fact]
    public async Task Sigint_stops_a_run_whose_stream_is_reconnecting_even_when_started_in_the_background()
    {
        var dir = Dir();
        var port = Engine.FreePort();
        var ffmpeg = Engine.Tool("ffmpeg", "ffmpeg");
        using var sender = Process.Start(new ProcessStartInfo(ffmpeg,
            $"-v error -re -f lavfi -i testsrc=size=160x120:rate=20 -c:v mpeg2video -g 5 -f mpegts tcp://127.0.0.1:{port}?listen=1")
        { RedirectStandardError = true })!;
        var record = Path.Combine(dir, "t.mp4");
        // As a shell starts a background job: SIGINT ignored from the start. The engine takes it back.
        var (engine, err) = await StartWatchedAsync("bash",
            $"-c \"trap '' INT; exec dotnet '{Engine.Dll}' run --source tcp://127.0.0.1:{port} --record '{record}'\"");
        using var _ = engine;
        sender.Kill(true);
        await Engine.Until(() => { lock (err) return err.ToString().Contains("reconnecting with backoff"); }, "the reconnect");
        Assert.True(Signals.Send(engine.Id, Signals.SIGINT));
        using var cts = new CancellationTokenSource(40_000); // far below the 60 s give-up
        await engine.WaitForExitAsync(cts.Token);
        string text;
        lock (err) text = err.ToString();
        Assert.True(engine.ExitCode == 0, text);
        Assert.Contains("stopping: draining", text);
        Assert.DoesNotContain("did not come back", text);
        Assert.True(Engine.Probe(record).Frames > 0);
    }

    [Fact]
    public async Task A_ctrl_c_at_the_terminal_reaches_the_engine_alone_and_the_recording_is_finished_whole()
    {
        // A terminal sends SIGINT to the whole foreground process group: ffmpeg helpers must not die with it.
        var dir = Dir();
        var record = Path.Combine(dir, "g.mp4");
        var json = Path.Combine(dir, "g.json");
        var (engine, err) = await StartWatchedAsync("setsid",
            $"dotnet \"{Engine.Dll}\" run --source synthetic:frames=400,fps=20,size=160x120 --realtime --record {record} --stats-json {json}");
        using var _ = engine;
        await Task.Delay(1500);
        Assert.True(Signals.SendGroup(engine.Id, Signals.SIGINT));
        using var cts = new CancellationTokenSource(60_000);
        await engine.WaitForExitAsync(cts.Token);
        string text;
        lock (err) text = err.ToString();
        Assert.True(engine.ExitCode == 0, text);
        Assert.DoesNotContain("could not finish cleanly", text);
        var summary = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("recording");
        Assert.Equal(summary.GetProperty("frames_in_file").GetInt64(), Engine.Probe(record).Frames);
    }

    [Theory]
    [InlineData("run --source synthetic:frames=3,size=96x72 --quiet")]
    [InlineData("run --source synthetic:frames=3,size=96x72 --quiet --stats-json -")]
    [InlineData("doctor --json")]
    public async Task A_full_standard_output_is_one_line_and_exit_3_never_a_stack_trace(string args)
    {
        var psi = new ProcessStartInfo("bash", $"-c \"dotnet '{Engine.Dll}' {args} > /dev/full\"") { RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderr = await p.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(p.ExitCode == 3, stderr);
        Assert.Contains("error: standard output could not be written", stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void An_immutable_stats_json_is_refused_before_the_run_and_left_as_it_was()
    {
        // On the repository's own disk (chattr needs a file system that keeps attributes, as ext4 does).
        var dir = Directory.CreateDirectory(Path.Combine(Engine.Root, ".rtmtl", "tmp", Guid.NewGuid().ToString("N")[..8])).FullName;
        var json = Path.Combine(dir, "stats.json");
        File.WriteAllText(json, "{\"before\": true}");
        var (code, output) = ServingTests.RunTool(Engine.Tool("chattr", "e2fsprogs"), $"+i {json}");
        Assert.True(code == 0, $"chattr +i failed here ({output}): the test needs root and an ext4-like file system");
        try
        {
            var r = Engine.Run($"run --source synthetic:frames=30,size=96x72 --stats-json {json}");
            Assert.True(r.Code == 2, r.Stderr);
            Assert.Contains("--stats-json", r.Stderr);
            Assert.DoesNotContain("first frame out", r.Stderr);
            Assert.Equal("{\"before\": true}", File.ReadAllText(json));
        }
        finally
        {
            ServingTests.RunTool(Engine.Tool("chattr", "e2fsprogs"), $"-i {json}");
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_response_file_that_names_itself_or_is_binary_is_one_error_not_a_hang_or_a_crash()
    {
        var dir = Dir();
        var loop = Path.Combine(dir, "loop.rsp");
        File.WriteAllText(loop, $"--quiet\n@{loop}\n");
        var r = Engine.Run($"run @{loop}", 60_000);
        Assert.Equal(2, r.Code);
        Assert.Contains("names itself", r.Stderr);
        var bin = Path.Combine(dir, "bin.rsp");
        var bytes = new byte[3 << 20];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(bin, bytes);
        r = Engine.Run($"run @{bin}", 60_000);
        Assert.Equal(2, r.Code);
        Assert.Contains("response file", r.Stderr);
        Assert.DoesNotContain("Unhandled exception", r.Stderr);
        var good = Path.Combine(dir, "good.rsp");
        File.WriteAllText(good, "# a short run\n--source synthetic:frames=3,size=96x72\n--quiet\n");
        r = Engine.Run($"run @{good}", 60_000);
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("frames  3 processed", r.Stdout);
    }

    [Fact]
    public void An_odd_sized_source_recorded_through_opencv_is_padded_and_said_so_not_cropped()
    {
        var dir = Dir();
        var ffmpeg = Engine.Tool("ffmpeg", "ffmpeg");
        var (code, output) = ServingTests.RunTool(ffmpeg, "-v error -y -f lavfi -i testsrc=size=333x249:rate=10 -t 1 -c:v mpeg4 odd.mp4", dir);
        Assert.True(code == 0, output);
        var avi = Path.Combine(dir, "odd.avi");
        var r = Engine.Run($"run --source {Path.Combine(dir, "odd.mp4")} --record {avi}");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains("pads 999x249 frames with black to 1000x250", r.Stderr);
        var (probe, size) = ServingTests.RunTool(Engine.Tool("ffprobe", "ffmpeg"), $"-v error -show_entries stream=width,height -of csv=p=0 {avi}");
        Assert.Equal(0, probe);
        Assert.Equal("1000,250", size.Trim());
    }
}
