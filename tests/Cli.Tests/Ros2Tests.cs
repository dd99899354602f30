using System.Globalization;
using System.Runtime.InteropServices;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Common.Ros;
using RealtimeMtl.Ros2;
using RealtimeMtl.Ros2.Capture;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// The engine as a ROS 2 node, against DDS peers that share no code with it (<see cref="DdsPeers"/>: C programs built
/// with Debian's idlc from the tests' own IDL): a camera publishes recorded frames with camera info and depth, the
/// engine runs the model on them and publishes the perception, a subscriber checks types, stamps, frame ids, labels and
/// depth against the run's --save-raw. Every participant stays on loopback (CYCLONEDDS_URI), each test on its own domain.
/// </summary>
public class Ros2Tests
{
    private const int W = 160, H = 120;

    /// <summary>N synthetic frames (BGR) and their depth (16UC1 mm), as a ROS 2 camera driver would send them.</summary>
    private static async Task<(string Frames, string Depth)> RecordedFrames(string dir, int n)
    {
        var frames = Path.Combine(dir, "frames.bgr");
        var depth = Path.Combine(dir, "depth.u16");
        await using var source = new SyntheticSource(new SyntheticOptions { Seed = 5, Frames = n, Width = W, Height = H });
        await using (var f = File.Create(frames))
        await using (var d = File.Create(depth))
        {
            await foreach (var frame in source.ReadAllAsync())
            {
                using (frame)
                {
                    var bgr = new byte[W * H * 3];
                    Marshal.Copy(frame.Image.Data, bgr, 0, bgr.Length);
                    f.Write(bgr);
                    using var mm = new Mat();
                    frame.Depth!.ConvertTo(mm, MatType.CV_16UC1, 1000);
                    var u16 = new byte[W * H * 2];
                    Marshal.Copy(mm.Data, u16, 0, u16.Length);
                    d.Write(u16);
                }
            }
        }
        return (frames, depth);
    }

    [Fact]
    public async Task Round_trip_a_ros2_camera_in_and_the_perception_out_with_the_input_stamps_frame_ids_and_the_runs_own_depth_and_labels()
    {
        var env = DdsPeers.Environment();
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        const int n = 12;
        var (frames, depth) = await RecordedFrames(dir, 4);
        var dump = Directory.CreateDirectory(Path.Combine(dir, "dump")).FullName;
        var raw = Path.Combine(dir, "raw");
        var json = Path.Combine(dir, "stats.json");
        var mcap = Path.Combine(dir, "run.mcap");
        using var sub = new DdsPeers.Peer(DdsPeers.Sub,
            $"90 {n} /rtmtl/depth=image:rel /rtmtl/labels=image:rel /rtmtl/camera_info=info:rel /rtmtl/classes=string:latched /tf_static=tf:latched",
            new Dictionary<string, string>(env) { ["DUMP"] = dump });
        await sub.ReadyAsync();
        using var pub = new DdsPeers.Peer(DdsPeers.Pub, $"/cam \"{frames}\" {W} {H} {n} 5 \"{depth}\" rgb8", env);
        var r = await Engine.RunAsync($"run --source ros2:/cam/image_raw,info=/cam/camera_info,depth=/cam/depth,giveup=3 --ros2 --ros2-reliable "
            + $"--save-raw {raw} --stats-json {json} --record-mcap {mcap}", null, environment: env);
        Assert.Equal(0, await pub.ExitAsync());
        Assert.Equal(0, await sub.ExitAsync());
        // The camera stopped: an outage, then the give-up (exit 3), with every output finalised.
        Assert.True(r.Code == 3, r.Stderr);
        Assert.Contains("has sent nothing for 3 s", r.Stderr);
        Assert.Contains("ros2: publishing /rtmtl/{image,overlay,labels,depth,camera_info}", r.Stderr);
        var summary = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        var processed = summary.GetProperty("frames").GetInt64();
        Assert.True(processed >= n - 2, $"{processed} of {n} frames processed");

        var depths = sub.Of("image", "/rtmtl/depth");
        var labels = sub.Of("image", "/rtmtl/labels");
        var infos = sub.Of("info", "/rtmtl/camera_info");
        // Reliable out: the subscriber got every processed frame, each stamped as its input (sec 1000+i, nanosec 1000 i).
        Assert.Equal(processed, depths.Count);
        Assert.Equal(processed, labels.Count);
        var inputs = Enumerable.Range(0, n).Select(i => $"{1000 + i} {1000 * i}").ToHashSet();
        foreach (var m in depths.Concat(labels))
        {
            Assert.Contains($"{m[2]} {m[3]}", inputs);
            Assert.Equal("peer_optical_frame", m[4]);
            Assert.Equal($"{W}x{H}", m[5]);
        }
        Assert.All(depths, m => Assert.Equal(("32FC1", "640"), (m[6], m[7])));
        Assert.All(labels, m => Assert.Equal(("mono8", "160"), (m[6], m[7])));
        Assert.Equal(depths.Select(m => long.Parse(m[2], CultureInfo.InvariantCulture)).Order(), depths.Select(m => long.Parse(m[2],
            CultureInfo.InvariantCulture)));
        // The camera's calibration came through (K from the peer's camera_info: fx = fy = width, centre).
        Assert.NotEmpty(infos);
        Assert.All(infos, m => Assert.Equal(("160.000", "160.000", "80.000", "60.000"), (m[7], m[8], m[9], m[10])));
        // The class map (latched) and no /tf_static: a ROS 2 camera's frame hangs in the robot's own TF tree.
        var classes = JsonDocument.Parse(string.Join(' ', sub.Of("string", "/rtmtl/classes").Single().Skip(2))).RootElement;
        Assert.Equal(13, classes.GetProperty("classes").GetArrayLength());
        Assert.Empty(sub.Of("tf", "/tf_static"));

        // Depth and labels on the wire are the run's own (--save-raw: PNG16 mm and labels PNG), frame by frame.
        var rawDepths = Directory.GetFiles(raw, "*_depth.png").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(processed, rawDepths.Count);
        for (var k = 0; k < rawDepths.Count; k++)
        {
            using var mm = Cv2.ImRead(rawDepths[k], ImreadModes.Unchanged);
            var wire = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dump, $"rtmtl_depth-{k + 1}.raw")));
            Assert.Equal(W * H, wire.Length);
            var worst = 0.0;
            for (var i = 0; i < wire.Length; i++)
            {
                var saved = mm.At<ushort>(i / W, i % W);
                if (saved == 0) { Assert.True(float.IsNaN(wire[i]) || wire[i] <= 0.0005f, "REP 118: no depth is NaN"); continue; }
                worst = Math.Max(worst, Math.Abs(wire[i] - saved / 1000.0));
            }
            Assert.True(worst <= 0.0006, $"frame {k}: depth on the wire differs from --save-raw by {worst:0.0000} m");
            using var savedLabels = Cv2.ImRead(rawDepths[k].Replace("_depth.png", "_labels.png"), ImreadModes.Unchanged);
            var wireLabels = File.ReadAllBytes(Path.Combine(dump, $"rtmtl_labels-{k + 1}.raw"));
            var expected = new byte[W * H];
            Marshal.Copy(savedLabels.Data, expected, 0, expected.Length);
            Assert.Equal(expected, wireLabels);
        }
        // RGB-D: the camera's depth was paired by stamp and scored (depth metrics against the source's depth).
        Assert.Equal(JsonValueKind.Number, summary.GetProperty("depth_rmse").ValueKind);
        // The MCAP of the run carries the input stamps (log time = header stamp = the camera's).
        var (code, output) = ServingTests.RunTool(Engine.Tool("node", "nodejs"), $"read-mcap.mjs {mcap}", Path.Combine(Engine.Root, "tests",
            "clients", "foxglove"));
        Assert.True(code == 0, output);
        var first = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.GetProperty("first").GetProperty("/rtmtl/depth");
        var stamp = first.GetProperty("header").GetProperty("stamp");
        Assert.InRange(stamp.GetProperty("sec").GetInt64(), 1000, 1000 + n);
        var stampNs = stamp.GetProperty("sec").GetInt64() * 1_000_000_000 + stamp.GetProperty("nanosec").GetInt64();
        Assert.Equal(stampNs.ToString(CultureInfo.InvariantCulture),
            first.GetProperty("log_time").GetString());
    }

    [Fact]
    public async Task A_node_that_joins_late_gets_the_latched_classes_and_tf_static_and_each_topic_its_ros2_type()
    {
        var env = DdsPeers.Environment();
        DdsPeers.Peer? sub = null;
        try
        {
            var r = await Engine.RunAsync($"run --source synthetic:frames=40,size={W}x{H},fps=10 --realtime --ros2", async p =>
            {
                // Started after the engine published its latched topics: transient local still delivers them.
                sub = new DdsPeers.Peer(DdsPeers.Sub,
                    "30 5 /rtmtl/image=image:be /rtmtl/overlay=image:be /rtmtl/labels=image:be /rtmtl/depth=image:be "
                    + "/rtmtl/camera_info=info:be /rtmtl/classes=string:latched /tf_static=tf:latched", env);
                await sub.ReadyAsync();
                await sub.ExitAsync();
            }, environment: env);
            Assert.True(r.Code == 0, r.Stderr);
            Assert.NotNull(sub);
            Assert.Equal(5, sub!.Of("image", "/rtmtl/image").Count);
            Assert.All(sub.Of("image", "/rtmtl/image"), m => Assert.Equal(("camera_optical_frame", $"{W}x{H}", "bgr8"), (m[4], m[5], m[6])));
            Assert.All(sub.Of("image", "/rtmtl/overlay"), m => Assert.Equal("bgr8", m[6]));
            Assert.NotEmpty(sub.Of("image", "/rtmtl/overlay"));
            Assert.NotEmpty(sub.Of("image", "/rtmtl/labels"));
            Assert.NotEmpty(sub.Of("info", "/rtmtl/camera_info"));
            var tf = Assert.Single(sub.Of("tf", "/tf_static"));
            Assert.Equal(["camera_link", "camera_optical_frame", "-0.500", "0.500", "-0.500", "0.500"], tf[2..]);
            Assert.Contains("\"name\":\"wall\"", Assert.Single(sub.Of("string", "/rtmtl/classes"))[2]);
        }
        finally { sub?.Dispose(); }
    }

    [Fact]
    public async Task Several_cameras_publish_under_the_namespace_and_their_names_each_with_its_own_frame_id()
    {
        var env = DdsPeers.Environment();
        using var sub = new DdsPeers.Peer(DdsPeers.Sub,
            "60 4 /robot/front/depth=image:rel /robot/rear/depth=image:rel /robot/classes=string:latched /tf_static=tf:latched", env);
        await sub.ReadyAsync();
        var r = await Engine.RunAsync($"run --source front=synthetic:frames=30,size={W}x{H},fps=10,seed=1 --source "
            + $"rear=synthetic:frames=30,size={W}x{H},fps=10,seed=2 "
            + "--realtime --ros2 --ros2-namespace robot --ros2-reliable", null, environment: env);
        Assert.True(r.Code == 0, r.Stderr);
        await sub.ExitAsync();
        Assert.NotEmpty(sub.Of("image", "/robot/front/depth"));
        Assert.All(sub.Of("image", "/robot/front/depth"), m => Assert.Equal("front_optical_frame", m[4]));
        Assert.NotEmpty(sub.Of("image", "/robot/rear/depth"));
        Assert.All(sub.Of("image", "/robot/rear/depth"), m => Assert.Equal("rear_optical_frame", m[4]));
        Assert.Single(sub.Of("string", "/robot/classes"));
        var tf = sub.Of("tf", "/tf_static").Select(m => $"{m[2]}>{m[3]}").Order().ToList();
        Assert.Equal(["front_link>front_optical_frame", "rear_link>rear_optical_frame"], tf);
    }

    [Fact]
    public async Task A_robot_that_reads_depth_labels_and_camera_info_costs_the_engine_no_drawing_and_an_overlay_reader_does()
    {
        foreach (var (topics, drawn) in new[]
        {
            ("/rtmtl/depth=image:be /rtmtl/labels=image:be /rtmtl/camera_info=info:be", false),
            ("/rtmtl/depth=image:be /rtmtl/overlay=image:be", true),
        })
        {
            var env = DdsPeers.Environment();
            using var sub = new DdsPeers.Peer(DdsPeers.Sub, $"120 0 {topics}", env);
            await sub.ReadyAsync();
            var r = await Engine.RunAsync("run --source synthetic:frames=30,size=160x120,fps=10 --realtime --ros2", null, environment: env);
            Assert.True(r.Code == 0, r.Stderr);
            await Engine.Until(() => sub.Of("image", "/rtmtl/depth").Count > 0, "the subscriber's depth");
            var notDrawn = System.Text.RegularExpressions.Regex.Match(r.Stdout, @"render\s+(\d+) of (\d+) frames not drawn");
            if (drawn)
            {
                Assert.True(sub.Of("image", "/rtmtl/overlay").Count > 0, r.Stdout);
                Assert.True(!notDrawn.Success || notDrawn.Groups[1].Value != notDrawn.Groups[2].Value, r.Stdout);
            }
            else
            {
                // Nothing shows the picture: every frame goes out undrawn, and the robot still gets its depth.
                Assert.True(notDrawn.Success && notDrawn.Groups[1].Value == notDrawn.Groups[2].Value, r.Stdout);
            }
        }
    }

    [Fact]
    public async Task A_subscriber_that_stops_reading_never_holds_up_the_engine_or_its_recording()
    {
        var env = DdsPeers.Environment();
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var video = Path.Combine(dir, "out.mp4");
        var json = Path.Combine(dir, "stats.json");
        // A reliable subscriber to the biggest topics, frozen (SIGSTOP) as soon as it has its first image.
        using var sub = new DdsPeers.Peer(DdsPeers.Sub, "120 0 /rtmtl/image=image:rel /rtmtl/overlay=image:rel /rtmtl/depth=image:rel", env);
        await sub.ReadyAsync();
        var r = await Engine.RunAsync($"run --source synthetic:frames=40,size=320x240,fps=10 --realtime --ros2 --ros2-reliable --record {video} "
            + $"--stats-json {json}",
            async p =>
            {
                await Engine.Until(() => sub.Of("image", "/rtmtl/image").Count > 0, "the subscriber's first image");
                Signals.Require(sub.Pid, Signals.SIGSTOP);
            }, environment: env);
        Signals.Send(sub.Pid, Signals.SIGCONT);
        Assert.True(r.Code == 0, r.Stderr);
        var summary = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        // The run went on to the end of its source: every frame processed or (a live camera on a busy machine) dropped
        // at the source, as without a subscriber; the frozen reader cost the ROS 2 sink frames, never the recording.
        var processed = summary.GetProperty("frames").GetInt64();
        Assert.Equal(40, processed + summary.GetProperty("dropped_at_source").GetInt64());
        // A pipeline held up by the frozen reader would process a handful of frames (the rest dropped at the source);
        // on a busy machine a live run drops some anyway, so the bound is loose.
        Assert.True(processed >= 20, $"{processed} of 40 frames processed");
        var recording = summary.GetProperty("recording");
        // Every processed frame reached the recorder: written, or (live) two in one slot of its time grid, one skipped.
        Assert.Equal(processed, recording.GetProperty("frames_written").GetInt64() + recording.GetProperty("frames_skipped").GetInt64());
        Assert.Equal(recording.GetProperty("frames_in_file").GetInt64(), Engine.Probe(video).Frames);
    }

    [Fact]
    public async Task A_camera_that_dies_is_an_outage_then_a_give_up_and_sigint_leaves_every_recording_playable()
    {
        var env = DdsPeers.Environment();
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var (frames, _) = await RecordedFrames(dir, 3);
        // The camera is killed mid-stream: the engine says so, waits, gives up (exit 3), and the recording plays.
        var video = Path.Combine(dir, "dies.mp4");
        using (var pub = new DdsPeers.Peer(DdsPeers.Pub, $"/cam \"{frames}\" {W} {H} 1000 10", env))
        {
            var r = await Engine.RunAsync($"run --source ros2:/cam/image_raw,giveup=4 --record {video}", async p =>
            {
                await Task.Yield();
                Signals.Require(pub.Pid, Signals.SIGKILL);
            }, environment: env);
            Assert.True(r.Code == 3, r.Stderr);
            Assert.True(r.Stderr.Contains("ROS 2 topic /cam/image_raw: no image for"), r.Stderr);
            Assert.Contains("has sent nothing for 4 s", r.Stderr);
            Assert.True(Engine.Probe(video).Frames > 0);
        }
        // SIGINT while the camera streams: the engine drains, leaves DDS, and exits 0 with its recording whole.
        var stopped = Path.Combine(dir, "stopped.mp4");
        using (var pub = new DdsPeers.Peer(DdsPeers.Pub, $"/cam \"{frames}\" {W} {H} 1000 10", env))
        {
            var watch = Stopwatch.StartNew();
            long signalled = 0;
            var r = await Engine.RunAsync($"run --source ros2:/cam/image_raw --ros2 --record {stopped}", async p =>
            {
                await Task.Yield();
                signalled = watch.ElapsedMilliseconds;
                Signals.Require(p.Id, Signals.SIGINT);
            }, environment: env);
            Assert.True(r.Code == 0, r.Stderr);
            Assert.Contains("stopping", r.Stderr);
            Assert.True(Engine.Probe(stopped).Frames > 0);
        }
    }

    [Fact]
    public async Task A_camera_that_pauses_is_an_outage_said_once_and_back_when_its_images_return()
    {
        var env = DdsPeers.Environment();
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var (frames, _) = await RecordedFrames(dir, 3);
        using var pub = new DdsPeers.Peer(DdsPeers.Pub, $"/cam \"{frames}\" {W} {H} 1000 10", env);
        var r = await Engine.RunWatchingAsync("run --source ros2:/cam/image_raw,giveup=30", async (p, stderr) =>
        {
            Signals.Require(pub.Pid, Signals.SIGSTOP);
            await Engine.Until(() => stderr().Contains("ROS 2 topic /cam/image_raw: no image for"), "the outage line");
            Signals.Require(pub.Pid, Signals.SIGCONT);
            await Engine.Until(() => stderr().Contains("ROS 2 topic /cam/image_raw back after"), "the back line");
            Signals.Require(p.Id, Signals.SIGINT);
        }, environment: env);
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Single(r.Stderr.Split('\n'), l => l.Contains("no image for"));
    }

    [Fact]
    public async Task Without_cyclone_dds_the_ros2_option_and_source_exit_2_with_the_one_install_line()
    {
        var env = new Dictionary<string, string> { ["RTMTL_DDSC"] = "/nonexistent/libddsc.so" };
        foreach (var args in new[] { "run --source synthetic:frames=3 --ros2", "run --source ros2:/camera/image_raw" })
        {
            var r = await Engine.RunAsync(args, null, environment: env);
            Assert.True(r.Code == 2, r.Stderr);
            var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: "));
            Assert.Contains("sudo apt-get install -y libddsc0debian cyclonedds-dev gcc", line);
            Assert.DoesNotContain("   at ", r.Stderr);
        }
    }

    [Fact]
    public async Task Doctor_shows_cyclone_the_domain_and_the_network_settings_and_says_what_to_install_without_it()
    {
        var env = new Dictionary<string, string>(DdsPeers.Environment());
        var r = await Engine.RunAsync("doctor --json", null, environment: env);
        var ros2 = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("checks").EnumerateArray()
            .Where(c => c.GetProperty("area").GetString() == "ros2").ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
        Assert.Equal("ok", ros2["Cyclone DDS"].GetProperty("status").GetString());
        Assert.Matches(@"^libddsc \d+\.\d+\.\d+, shim .*librtmtl_dds\.so$", ros2["Cyclone DDS"].GetProperty("detail").GetString());
        Assert.Equal(env["ROS_DOMAIN_ID"], ros2["ROS_DOMAIN_ID"].GetProperty("detail").GetString());
        Assert.Contains("127.0.0.1", ros2["CYCLONEDDS_URI"].GetProperty("detail").GetString());
        env["RTMTL_DDSC"] = "/nonexistent/libddsc.so";
        r = await Engine.RunAsync("doctor --json", null, environment: env);
        var missing = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("checks").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == "Cyclone DDS");
        Assert.Equal("note", missing.GetProperty("status").GetString());
        Assert.Contains("apt-get install -y libddsc0debian cyclonedds-dev gcc", missing.GetProperty("fix").GetString());
    }

    [Theory]
    [InlineData("run --source ros2:camera/image_raw", "not an absolute ROS 2 topic name")]
    [InlineData("run --source ros2:/camera/image_raw,fps=3", "not a ROS 2 source option")]
    [InlineData("run --source synthetic:frames=2 --ros2 --ros2-namespace 1robot", "--ros2-namespace '1robot'")]
    [InlineData("run --source synthetic:frames=2 --ros2-points", "give --ros2 too")]
    public async Task Bad_ros2_options_are_one_clear_error_and_exit_2(string args, string says)
    {
        var r = await Engine.RunAsync(args, null, environment: DdsPeers.Environment());
        Assert.True(r.Code == 2, r.Stderr);
        Assert.Contains(says, r.Stderr);
    }

    [Fact]
    public void A_ros2_image_in_each_encoding_reads_as_the_same_bgr_picture_and_depth_in_metres()
    {
        using var bgr = new Mat(4, 6, MatType.CV_8UC3);
        Cv2.Randu(bgr, new Scalar(0, 0, 0), new Scalar(255, 255, 255));
        byte[] Bytes(Mat m) { var b = new byte[m.Total() * m.ElemSize()]; Marshal.Copy(m.Data, b, 0, b.Length); return b; }
        RosImage Message(Mat m, string encoding)
        {
            var cdr = RosMessages.WriteImage(5_000_000_123, "cam", m.Cols, m.Rows, encoding, (int)(m.Cols * m.ElemSize()),
                dst => Bytes(m).CopyTo(dst));
            return RosMessageReader.Image(cdr);
        }
        var message = Message(bgr, "bgr8");
        Assert.Equal((5_000_000_123L, "cam"), (message.Header.UnixNs, message.Header.FrameId));
        using (var same = RosImages.ToBgr(message, "/t")) Assert.Equal(Bytes(bgr), Bytes(same));
        foreach (var (code, encoding) in new[] { (ColorConversionCodes.BGR2RGB, "rgb8"), (ColorConversionCodes.BGR2RGBA, "rgba8"),
            (ColorConversionCodes.BGR2BGRA, "bgra8") })
        {
            using var other = new Mat();
            Cv2.CvtColor(bgr, other, code);
            using var back = RosImages.ToBgr(Message(other, encoding), "/t");
            Assert.Equal(Bytes(bgr), Bytes(back));
        }
        using (var gray = new Mat())
        {
            Cv2.CvtColor(bgr, gray, ColorConversionCodes.BGR2GRAY);
            using var back = RosImages.ToBgr(Message(gray, "mono8"), "/t");
            Assert.Equal(gray.At<byte>(2, 3), back.At<Vec3b>(2, 3).Item1);
        }
        // UYVY (ROS 2's yuv422): a flat grey decodes to that grey.
        using (var uyvy = new Mat(4, 6, MatType.CV_8UC2, new Scalar(128, 90)))
        using (var back = RosImages.ToBgr(Message(uyvy, "yuv422"), "/t"))
            Assert.InRange(back.At<Vec3b>(1, 1).Item0, 80, 95); // BT.601 video range: (90 - 16) * 1.164
        var e = Assert.Throws<SourceException>(() => RosImages.ToBgr(Message(bgr, "bayer_rggb8"), "/cam/image_raw"));
        Assert.Contains("/cam/image_raw", e.Message);
        // Depth: 16UC1 millimetres and 32FC1 metres (NaN: none) both become metres with 0 where there is none.
        using var mm = new Mat(2, 2, MatType.CV_16UC1, new Scalar(0));
        mm.Set(0, 1, (ushort)1234);
        using (var metres = RosImages.ToMetres(Message(mm, "16UC1"), "/d"))
        {
            Assert.Equal(0f, metres.At<float>(0, 0));
            Assert.Equal(1.234, metres.At<float>(0, 1), 5);
        }
        using var f = new Mat(2, 2, MatType.CV_32FC1, new Scalar(float.NaN));
        f.Set(1, 1, 2.5f);
        using (var metres = RosImages.ToMetres(Message(f, "32FC1"), "/d")) Assert.Equal((0f, 2.5f), (metres.At<float>(0, 0), metres.At<float>(1, 1)));
    }

    [Fact]
    public void A_cdr_message_cut_short_is_refused_naming_the_field_and_camera_info_reads_back_as_written()
    {
        var info = RosMessages.WriteCameraInfo(7_000_000_001, "cam", 640, 480, "plumb_bob", [0.1, -0.2, 0, 0, 0.01],
            [500, 0, 320, 0, 501, 240, 0, 0, 1], [1, 0, 0, 0, 1, 0, 0, 0, 1], [500, 0, 320, 0, 0, 501, 240, 0, 0, 0, 1, 0]);
        var read = RosMessageReader.CameraInfo(info);
        Assert.Equal((7_000_000_001L, "cam", 640, 480, "plumb_bob"), (read.Header.UnixNs, read.Header.FrameId, read.Width, read.Height,
            read.DistortionModel));
        Assert.Equal([0.1, -0.2, 0, 0, 0.01], read.D);
        Assert.Equal(501, read.K[4]);
        Assert.Equal(240, read.P[6]);
        var e = Assert.Throws<FormatException>(() => RosMessageReader.CameraInfo(info.AsSpan(0, info.Length - 40)));
        Assert.Contains("CDR", e.Message);
        Assert.Throws<FormatException>(() => RosMessageReader.Image([0, 1, 0, 0, 1]));
    }

    [Theory]
    [InlineData("ros2:/camera/image_raw", "/camera/image_raw", null, null)]
    [InlineData("ros2:/cam/image_raw/compressed,info=/cam/camera_info,depth=/cam/depth,giveup=5,reliable", "/cam/image_raw/compressed",
        "/cam/camera_info", "/cam/depth")]
    public void A_ros2_source_spec_names_its_topics(string spec, string image, string? info, string? depth)
    {
        var s = Ros2SourceSpec.Parse(spec);
        Assert.Equal((image, info, depth), (s.ImageTopic, s.InfoTopic, s.DepthTopic));
        Assert.Equal(image.EndsWith("/compressed"), s.Compressed);
        Assert.Equal(["rtmtl"], new Ros2Options().Prefixes(["cam0"]));
        Assert.Equal(["ns/a", "ns/b"], new Ros2Options { Namespace = "ns" }.Prefixes(["a", "b"]));
    }
}
