using System.Globalization;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// The robot feed's conventions, checked by the shipped Python client: a header with the chosen frame_id and the
/// sensor's own timestamps (TUM), camera info from the user's OpenCV-written calibration (Describe and first
/// frame), the input image of the same frame on request, and class names only in Describe.
/// </summary>
public class RobotFeedTests
{
    private const double T0 = 1305031102.175304;

    /// <summary>A TUM RGB-D folder: frame i is grey level (i % 12) * 20, depth (1 + i % 4) m, 33 ms apart.</summary>
    private static string WriteTum(int frames)
    {
        var dir = Path.GetDirectoryName(Engine.Temp("tum"))!;
        Directory.CreateDirectory(Path.Combine(dir, "rgb"));
        Directory.CreateDirectory(Path.Combine(dir, "depth"));
        var rgb = new List<string> { "# timestamp filename" };
        var depth = new List<string> { "# timestamp filename" };
        for (var i = 0; i < frames; i++)
        {
            var t = T0 + i * 0.033;
            var name = t.ToString("F6", CultureInfo.InvariantCulture) + ".png";
            rgb.Add($"{t.ToString("F6", CultureInfo.InvariantCulture)} rgb/{name}");
            depth.Add($"{t.ToString("F6", CultureInfo.InvariantCulture)} depth/{name}");
            using var img = new Mat(48, 64, MatType.CV_8UC3, Scalar.All(i % 12 * 20));
            Cv2.ImWrite(Path.Combine(dir, "rgb", name), img);
            using var d = new Mat(48, 64, MatType.CV_16UC1, Scalar.All(5000 * (1 + i % 4)));
            Cv2.ImWrite(Path.Combine(dir, "depth", name), d);
        }
        File.WriteAllLines(Path.Combine(dir, "rgb.txt"), rgb);
        File.WriteAllLines(Path.Combine(dir, "depth.txt"), depth);
        return dir;
    }

    /// <summary>A calibration as OpenCV's own FileStorage writes it (what calibrateCamera samples save).</summary>
    private static string WriteCalibration(double[] distortion)
    {
        var path = Engine.Temp("calibration.yaml");
        using var fs = new FileStorage(path, FileStorage.Modes.Write);
        fs.Write("image_width", 640);
        fs.Write("image_height", 480);
        using (var k = Mat.FromPixelData(3, 3, MatType.CV_64FC1, new double[] { 600, 0, 330, 0, 610, 250, 0, 0, 1 })) fs.Write("camera_matrix", k);
        using (var d = Mat.FromPixelData(1, distortion.Length, MatType.CV_64FC1, distortion)) fs.Write("distortion_coefficients", d);
        return path;
    }

    [Fact]
    public async Task Feed_frames_carry_the_frame_id_the_TUM_timestamps_the_calibration_and_the_same_frames_image()
    {
        var tum = WriteTum(240);
        double[] distortion = [0.12, -0.21, 0.001, -0.002, 0.05];
        var calibration = WriteCalibration(distortion);
        var save = Path.GetDirectoryName(Engine.Temp("grpc"))!;
        (int Code, string Output) client = default;
        var r = await Engine.ServeAsync($"run --source tum:{tum} --realtime --feed 127.0.0.1:0 --feed-image --frame-id cam_optical --intrinsics " +
            $"{calibration}", async (p, ports) =>
        {
            var feed = ports.Feed;
            client = await Task.Run(() =>
            {
                var psi = new ProcessStartInfo("/usr/bin/python3", FeedClient.Args($"127.0.0.1:{feed}", save, 4,
                    "--image"))
                { WorkingDirectory = Engine.Root, RedirectStandardOutput = true, RedirectStandardError = true };
                using var c = Process.Start(psi)!;
                var o = c.StandardOutput.ReadToEndAsync(); var e = c.StandardError.ReadToEndAsync();
                if (!c.WaitForExit(60_000)) c.Kill(true);
                return (c.ExitCode, o.Result + e.Result);
            });
            try { Process.GetProcessById(p.Id).Kill(true); } catch (ArgumentException) { }
        });
        Assert.True(client.Code == 0, client.Output + r.Stderr);

        // Describe: names and palette once, frame id, and the camera as the file gives it (the size its values apply to).
        var d = JsonDocument.Parse(File.ReadAllText(Path.Combine(save, "describe.json"))).RootElement;
        Assert.Equal("cam_optical", d.GetProperty("frame_id").GetString());
        Assert.True(d.GetProperty("image_available").GetBoolean());
        var info = d.GetProperty("camera_info");
        Assert.Equal("plumb_bob", info.GetProperty("distortion_model").GetString());
        Assert.Equal(distortion, info.GetProperty("d").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal([600.0, 0, 330, 0, 610, 250, 0, 0, 1], info.GetProperty("k").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal((640, 480), (info.GetProperty("width").GetInt32(), info.GetProperty("height").GetInt32()));
        // The first frame's camera info: the same camera at the 64x48 the frames have.
        var first = JsonDocument.Parse(File.ReadAllText(Path.Combine(save, "camera_info.json"))).RootElement;
        Assert.Equal((64, 48), (first.GetProperty("width").GetInt32(), first.GetProperty("height").GetInt32()));
        var k = first.GetProperty("k").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(600 * 0.1, k[0], 6);
        Assert.Equal(610 * 0.1, k[4], 6);
        Assert.Equal((330 + 0.5) * 0.1 - 0.5, k[2], 6);
        Assert.Equal(distortion, first.GetProperty("d").EnumerateArray().Select(v => v.GetDouble()));

        var headers = Directory.GetFiles(save, "header_*.json");
        Assert.Equal(4, headers.Length);
        var firstSeq = headers.Select(h => long.Parse(Path.GetFileNameWithoutExtension(h)[7..])).Min();
        foreach (var path in headers)
        {
            var seq = long.Parse(Path.GetFileNameWithoutExtension(path)[7..]);
            var h = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
            Assert.Equal("cam_optical", h.GetProperty("frame_id").GetString());
            // The TUM timestamp of this very frame, to the microsecond, end to end.
            Assert.Equal("STAMP_SENSOR", h.GetProperty("stamp_source").GetString());
            var expected = (long)Math.Round(double.Parse((T0 + seq * 0.033).ToString("F6", CultureInfo.InvariantCulture),
                CultureInfo.InvariantCulture) * 1e6) * 1000;
            Assert.Equal(expected, h.GetProperty("stamp_unix_ns").GetInt64());
            // The engine's receive time is kept apart, and it is now, not 2011.
            Assert.InRange(h.GetProperty("receive_time_unix_ns").GetInt64() / 1e9, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600,
                DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
            Assert.Equal(seq * 0.033, h.GetProperty("media_time_s").GetDouble(), 4);
            // Camera info rides on the subscriber's first frame only (the camera does not change).
            Assert.Equal(seq == firstSeq, h.GetProperty("has_camera_info").GetBoolean());
            // The image is this frame's: grey level (seq % 12) * 20.
            using var img = Cv2.ImRead(Path.Combine(save, $"image_{seq}.jpg"));
            Assert.Equal((64, 48), (img.Width, img.Height));
            Assert.Equal(seq % 12 * 20, Cv2.Mean(img).Val0, 3);
            // Class statistics name no classes: the client maps ids through Describe.
            Assert.All(File.ReadAllLines(Path.Combine(save, $"classes_{seq}.txt")),
                l => Assert.Equal(d.GetProperty("class_names")[int.Parse(l.Split(' ')[0])].GetString(), l.Split(' ')[1]));
        }
    }
}
