using OpenCvSharp;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Capture.Synthetic;
using RealtimeMtl.Pipeline.Frames;

namespace RealtimeMtl.Capture.Tests;

/// <summary>--intrinsics files as OpenCV and ROS camera_calibration write them, and --undistort.</summary>
public class CalibrationTests
{
    private static string Temp(string name) => Path.Combine(Directory.CreateTempSubdirectory("rtmtl-cal-").FullName, name);

    [Theory]
    [InlineData(".yaml")]
    [InlineData(".json")]
    public void An_OpenCV_written_calibration_reads_back_with_its_distortion(string ext)
    {
        var path = Temp("cam" + ext);
        using (var fs = new FileStorage(path, FileStorage.Modes.Write))
        {
            fs.Write("image_width", 1280);
            fs.Write("image_height", 720);
            using var k = Mat.FromPixelData(3, 3, MatType.CV_64FC1, new double[] { 910.5, 0, 641.2, 0, 908.1, 362.7, 0, 0, 1 });
            fs.Write("camera_matrix", k);
            using var d = Mat.FromPixelData(1, 5, MatType.CV_64FC1, new double[] { 0.11, -0.23, 0.001, 0.0004, 0.09 });
            fs.Write("distortion_coefficients", d);
        }
        var c = CameraCalibration.Read(path);
        Assert.Equal((910.5, 908.1, 641.2, 362.7, 1280, 720), (c.Fx, c.Fy, c.Cx, c.Cy, c.Width, c.Height));
        Assert.Equal([0.11, -0.23, 0.001, 0.0004, 0.09], c.Distortion);
        Assert.Equal("plumb_bob", c.DistortionModel);
        // Scaling keeps the distortion (it lives in normalised coordinates).
        Assert.Equal(c.Distortion, c.ScaledTo(640, 360).Distortion);
        Assert.Equal(455.25, c.ScaledTo(640, 360).Fx, 9);
    }

    [Fact]
    public void A_ROS_camera_calibration_yaml_reads_too()
    {
        var path = Temp("ost.yaml");
        File.WriteAllText(path, """
            image_width: 640
            image_height: 480
            camera_name: narrow_stereo
            camera_matrix:
              rows: 3
              cols: 3
              data: [517.3, 0.0, 318.6, 0.0, 516.5, 255.3, 0.0, 0.0, 1.0]
            distortion_model: plumb_bob
            distortion_coefficients:
              rows: 1
              cols: 5
              data: [0.2624, -0.9531, -0.0054, 0.0026, 1.1633]
            rectification_matrix:
              rows: 3
              cols: 3
              data: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
            """);
        var c = CameraCalibration.Read(path);
        Assert.Equal((517.3, 516.5, 318.6, 255.3, 640, 480), (c.Fx, c.Fy, c.Cx, c.Cy, c.Width, c.Height));
        Assert.Equal(5, c.Distortion.Length);
        Assert.Equal(1.1633, c.Distortion[4], 9);
    }

    [Fact]
    public void A_calibration_without_a_camera_matrix_is_a_clear_error()
    {
        var path = Temp("bad.yaml");
        File.WriteAllText(path, "image_width: 640\nimage_height: 480\n");
        var e = Assert.Throws<InvalidDataException>(() => CameraCalibration.Read(path));
        Assert.Contains("camera_matrix", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Throws<FileNotFoundException>(() => CameraCalibration.Read("/nonexistent/cam.yaml"));
    }

    [Fact]
    public async Task Undistort_moves_pixels_as_OpenCV_predicts_and_keeps_labels_crisp()
    {
        var k = new CameraIntrinsics(200, 200, 159.5, 119.5, 320, 240) { Distortion = [-0.3, 0.1, 0, 0, 0] };
        var inner = new SyntheticSource(new SyntheticOptions { Frames = 1, Seed = 2 });
        await using var source = new CalibratedSource(inner, k, undistort: true);
        Frame? rectified = null;
        await foreach (var f in source.ReadAllAsync()) rectified = f;
        using var raw = new SyntheticSource(new SyntheticOptions { Frames = 1, Seed = 2 }).RenderFrame(0);
        Assert.NotNull(rectified);
        Assert.Empty(rectified!.Intrinsics!.Distortion);
        // A rectified pixel near the corner shows what the distorted image had where the lens model maps it.
        // Project the ideal pixel through the distortion model: normalise, distort, back to pixels.
        double x = (30 - k.Cx) / k.Fx, y = (25 - k.Cy) / k.Fy, r2 = x * x + y * y, s = 1 - 0.3 * r2 + 0.1 * r2 * r2;
        int u = (int)Math.Round(x * s * k.Fx + k.Cx), v = (int)Math.Round(y * s * k.Fy + k.Cy);
        Assert.Equal(raw.Labels!.At<byte>(v, u), rectified.Labels!.At<byte>(25, 30));
        // Labels stay labels (nearest), not blends of neighbouring ids.
        var allowed = new HashSet<byte>(Enumerable.Range(0, 13).Select(i => (byte)i)) { 255 };
        rectified.Labels!.GetArray(out byte[] ids);
        Assert.All(ids.Distinct(), id => Assert.Contains(id, allowed));
        rectified.Dispose();
    }

    [Fact]
    public async Task Undistort_rectifies_with_R_and_P_as_image_proc_does_and_the_frames_camera_is_P()
    {
        // A ROS calibration with a rotation R (a stereo rectification, 4 degrees about y) and a projection P of its own.
        var path = Temp("ost.yaml");
        var a = 4 * Math.PI / 180;
        double[] r = [Math.Cos(a), 0, Math.Sin(a), 0, 1, 0, -Math.Sin(a), 0, Math.Cos(a)];
        double[] p = [180, 0, 150, 0, 0, 180, 118, 0, 0, 0, 1, 0];
        string List(double[] v) => string.Join(", ", v.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        File.WriteAllText(path, $$"""
            image_width: 320
            image_height: 240
            camera_matrix: {rows: 3, cols: 3, data: [200.0, 0.0, 159.5, 0.0, 200.0, 119.5, 0.0, 0.0, 1.0]}
            distortion_model: plumb_bob
            distortion_coefficients: {rows: 1, cols: 5, data: [-0.3, 0.1, 0.0, 0.0, 0.0]}
            rectification_matrix: {rows: 3, cols: 3, data: [{{List(r)}}]}
            projection_matrix: {rows: 3, cols: 4, data: [{{List(p)}}]}
            """);
        var k = CameraCalibration.Read(path);
        Assert.Equal(r, k.R);
        Assert.Equal(p, k.P);
        await using var source = new CalibratedSource(new SyntheticSource(new SyntheticOptions { Frames = 1, Seed = 2 }), k, undistort: true);
        Frame? rectified = null;
        await foreach (var f in source.ReadAllAsync()) rectified = f;
        using var raw = new SyntheticSource(new SyntheticOptions { Frames = 1, Seed = 2 }).RenderFrame(0);
        // The rectified frame's camera is P's, undistorted and unrotated (what image_proc publishes with image_rect).
        var rk = rectified!.Intrinsics!;
        Assert.Equal((180.0, 180.0, 150.0, 118.0), (rk.Fx, rk.Fy, rk.Cx, rk.Cy));
        Assert.Empty(rk.Distortion);
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], rk.R);
        Assert.Equal(p, rk.P);
        // Pixels: a rectified pixel's ray is R^T P^-1 (u, v, 1); distorted and projected with K it lands on the raw pixel.
        var hits = 0;
        foreach (var (u, v) in new[] { (40, 30), (280, 50), (160, 120), (60, 200), (250, 210) })
        {
            double xr = (u - p[2]) / p[0], yr = (v - p[6]) / p[5];
            double X = r[0] * xr + r[3] * yr + r[6], Y = r[1] * xr + r[4] * yr + r[7], Z = r[2] * xr + r[5] * yr + r[8];
            double x = X / Z, y = Y / Z, r2 = x * x + y * y, s = 1 - 0.3 * r2 + 0.1 * r2 * r2;
            int ru = (int)Math.Round(x * s * 200 + 159.5), rv = (int)Math.Round(y * s * 200 + 119.5);
            if (ru is < 0 or >= 320 || rv is < 0 or >= 240) continue;
            // Nearest-neighbour remapping rounds: the label is the raw pixel's or a neighbour's (at a class border).
            var near = new HashSet<byte>();
            for (var dv = -1; dv <= 1; dv++)
                for (var du = -1; du <= 1; du++)
                    if (ru + du is >= 0 and < 320 && rv + dv is >= 0 and < 240) near.Add(raw.Labels!.At<byte>(rv + dv, ru + du));
            Assert.Contains(rectified.Labels!.At<byte>(v, u), near);
            hits++;
        }
        Assert.True(hits >= 4, $"only {hits} test pixels inside the raw image");
        rectified.Dispose();
    }
}
