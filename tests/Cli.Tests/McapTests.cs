using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using OpenCvSharp;
using RealtimeMtl.Tests.Shared;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// --record-mcap, read back by independent readers from npm: @mcap/core (the MCAP reference reader: header, summary,
/// chunk indexes and CRCs, or the streaming reader for a file cut short) and @foxglove/rosmsg2-serialization (ROS 2 CDR,
/// with the ros2msg schemas stored in the file). The values are checked against the run's own raw outputs.
/// </summary>
public class McapTests
{
    private static readonly string Readers = Path.Combine(Engine.Root, "tests", "clients", "foxglove");

    private static JsonElement Read(string mcap, params string[] options)
    {
        Assert.True(Directory.Exists(Path.Combine(Readers, "node_modules", "@mcap", "core")),
            "npm @mcap/core missing: ./rtmtl test installs it (npm ci in tests/clients/foxglove)");
        var (code, output) = ServingTests.RunTool(Engine.Tool("node", "nodejs"), $"read-mcap.mjs {mcap} {string.Join(' ', options)}", Readers);
        Assert.True(code == 0, output);
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
    }

    private static long Count(JsonElement r, string topic) => r.GetProperty("counts").TryGetProperty(topic, out var n) ? n.GetInt64() : 0;

    [Fact]
    public void An_mcap_recording_holds_ros2_images_camera_info_tf_and_classes_that_the_reference_readers_decode_to_the_runs_values()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        // Bad targets: one error naming the option, exit 2, nothing written.
        foreach (var (target, says) in new[] { ("/nonexistent/dir/x.mcap", "does not exist"), (Path.Combine(dir, "x.bag"), "must end in .mcap") })
        {
            var bad = Engine.Run($"run --source synthetic:frames=2,size=96x72 --record-mcap {target}");
            Assert.Equal(2, bad.Code);
            Assert.Contains("--record-mcap", bad.Stderr);
            Assert.Contains(says, bad.Stderr);
        }
        Assert.Empty(Directory.GetFiles(dir, "x.*"));
        var mcap = Path.Combine(dir, "run.mcap");
        var raw = Path.Combine(dir, "raw");
        var r = Engine.Run($"run --source synthetic:seed=4,frames=12,size=160x120 --record-mcap {mcap} --save-raw {raw}");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.False(File.Exists(Path.Combine(dir, "run.recording.mcap")), "the temporary file is renamed when the recording finishes");
        var dump = Path.Combine(dir, "dump");
        var m = Read(mcap, "--dump", dump);
        Assert.Equal("ros2", m.GetProperty("profile").GetString());
        var channels = m.GetProperty("channels").EnumerateArray().ToDictionary(c => c.GetProperty("topic").GetString()!, c => c);
        var expected = new Dictionary<string, string>
        {
            ["/rtmtl/image"] = "sensor_msgs/msg/Image", ["/rtmtl/overlay"] = "sensor_msgs/msg/Image", ["/rtmtl/labels"] = "sensor_msgs/msg/Image",
            ["/rtmtl/depth"] = "sensor_msgs/msg/Image", ["/rtmtl/camera_info"] = "sensor_msgs/msg/CameraInfo",
            ["/tf_static"] = "tf2_msgs/msg/TFMessage",
            ["/rtmtl/classes"] = "std_msgs/msg/String",
        };
        foreach (var (topic, schema) in expected)
        {
            Assert.Equal(schema, channels[topic].GetProperty("schemaName").GetString());
            Assert.Equal("ros2msg", channels[topic].GetProperty("schemaEncoding").GetString());
            Assert.Equal("cdr", channels[topic].GetProperty("messageEncoding").GetString());
        }
        // tf_static is latched (transient local) as rosbag2 records it, so ros2 bag play serves it to late subscribers.
        Assert.Contains("durability: 1", channels["/tf_static"].GetProperty("qos").GetString());
        // The summary's message counts: every processed frame once per topic; the latched topics once.
        var frames = Engine.RawFrames(raw);
        Assert.Equal(12, frames);
        foreach (var topic in new[] { "/rtmtl/image", "/rtmtl/overlay", "/rtmtl/labels", "/rtmtl/depth", "/rtmtl/camera_info" }) Assert.Equal(frames,
            Count(m, topic));
        Assert.Equal(1, Count(m, "/tf_static"));
        Assert.True(m.GetProperty("chunks").GetInt32() >= 1);

        // The first frame, decoded from CDR, is the run's first frame: stamp, frame id, sizes, encodings and pixels.
        var first = JsonDocument.Parse(File.ReadAllText(Path.Combine(raw, "000000.json"))).RootElement;
        var stamp = first.GetProperty("stamp_unix_ns").GetInt64();
        var f = m.GetProperty("first");
        foreach (var topic in new[] { "/rtmtl/image", "/rtmtl/labels", "/rtmtl/depth", "/rtmtl/camera_info" })
        {
            var header = f.GetProperty(topic).GetProperty("header");
            Assert.Equal(stamp, header.GetProperty("stamp").GetProperty("sec").GetInt64() * 1_000_000_000
                + header.GetProperty("stamp").GetProperty("nanosec").GetInt64());
            Assert.Equal("camera_optical_frame", header.GetProperty("frame_id").GetString());
            Assert.Equal(stamp.ToString(CultureInfo.InvariantCulture), f.GetProperty(topic).GetProperty("log_time").GetString());
        }
        var labels = f.GetProperty("/rtmtl/labels");
        Assert.Equal(("mono8", 160u, 120u, 160u), (labels.GetProperty("encoding").GetString(), labels.GetProperty("width").GetUInt32(),
            labels.GetProperty("height").GetUInt32(), labels.GetProperty("step").GetUInt32()));
        Assert.Equal("32FC1", f.GetProperty("/rtmtl/depth").GetProperty("encoding").GetString());
        Assert.Equal(("bgr8", 480u), (f.GetProperty("/rtmtl/image").GetProperty("encoding").GetString(),
            f.GetProperty("/rtmtl/image").GetProperty("step").GetUInt32()));
        using (var png = Cv2.ImRead(Path.Combine(raw, "000000_labels.png"), ImreadModes.Unchanged))
        {
            var want = new byte[png.Total()];
            Marshal.Copy(png.Data, want, 0, want.Length);
            Assert.Equal(want, File.ReadAllBytes(Path.Combine(dump, "rtmtl_labels.bin")));
        }
        using (var png = Cv2.ImRead(Path.Combine(raw, "000000_depth.png"), ImreadModes.Unchanged))
        {
            var bytes = File.ReadAllBytes(Path.Combine(dump, "rtmtl_depth.bin"));
            var depth = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            Assert.Equal(png.Total(), depth.Length);
            for (var i = 0; i < depth.Length; i++)
            {
                var mm = png.At<ushort>(i / 160, i % 160);
                Assert.True(mm == 0 ? float.IsNaN(depth[i]) : Math.Abs(depth[i] * 1000 - mm) <= 0.51, $"pixel {i}: {depth[i]} m vs {mm} mm");
            }
        }
        var info = f.GetProperty("/rtmtl/camera_info");
        var nyu = RealtimeMtl.Pipeline.Frames.CameraIntrinsics.Nyu.ScaledTo(160, 120);
        Assert.Equal(nyu.K, info.GetProperty("k").EnumerateArray().Select(v => v.GetDouble()).ToArray());
        Assert.Equal(nyu.P, info.GetProperty("p").EnumerateArray().Select(v => v.GetDouble()).ToArray());
        Assert.Equal("plumb_bob", info.GetProperty("distortion_model").GetString());
        // REP 103/105: the optical frame hangs from camera_link, rotated so z looks forward.
        var tf = f.GetProperty("/tf_static").GetProperty("transforms")[0];
        Assert.Equal("camera_link", tf.GetProperty("header").GetProperty("frame_id").GetString());
        Assert.Equal("camera_optical_frame", tf.GetProperty("child_frame_id").GetString());
        var q = tf.GetProperty("transform").GetProperty("rotation");
        Assert.Equal([-0.5, 0.5, -0.5, 0.5], new[] { "x", "y", "z", "w" }.Select(k => q.GetProperty(k).GetDouble()).ToArray());
        // The classes: names and colours of the model, as JSON.
        using var model = new RealtimeMtl.Inference.OnnxMtlModel(Engine.ShippedModel);
        var classes = JsonDocument.Parse(f.GetProperty("/rtmtl/classes").GetProperty("data").GetString()!).RootElement;
        Assert.Equal(model.Info.Labels.Classes, classes.GetProperty("classes").EnumerateArray().Select(c
            => c.GetProperty("name").GetString()!).ToArray());
        Assert.Equal(model.Info.Labels.Hex(1), classes.GetProperty("classes")[1].GetProperty("color").GetString());
    }

    [Fact]
    public async Task An_mcap_recording_killed_with_sigkill_reads_up_to_its_last_chunk_and_the_users_file_of_that_name_is_untouched()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var mcap = Path.Combine(dir, "robot.mcap");
        File.WriteAllText(mcap, "the user's own file");
        var raw = Path.Combine(dir, "raw");
        await Engine.RunAsync($"run --source synthetic:frames=100000,size=96x72 --realtime --record-mcap {mcap} --save-raw {raw}", async p =>
        {
            // Chunks close every second: wait for frames worth about three of them.
            await Engine.Until(() => Engine.RawFrames(raw) >= 90, "90 raw frames");
            Signals.Send(p.Id, 9);
        });
        Assert.Equal("the user's own file", File.ReadAllText(mcap));
        var partial = Path.Combine(dir, "robot.recording.mcap");
        Assert.True(File.Exists(partial), "the recording in progress is on disk under its temporary name");
        var m = Read(partial, "--stream");
        Assert.False(m.GetProperty("complete").GetBoolean(), "a killed recording has no footer");
        var processed = Engine.RawFrames(raw);
        var labels = Count(m, "/rtmtl/labels");
        // At most the open chunk (about a second: 30 frames) and the frames in flight are lost.
        Assert.InRange(labels, Math.Max(1, processed - 30 - 8), processed);
        Assert.InRange(Count(m, "/rtmtl/depth"), labels - 1, labels + 1);
        Assert.Equal(1, Count(m, "/tf_static"));
    }
}
