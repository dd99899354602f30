using System.Globalization;
using OpenCvSharp;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Capture.Tests;

public class SequenceSourceTests
{
    [Fact]
    public async Task Image_folder_is_read_in_natural_order()
    {
        using var dir = new TempDir();
        foreach (var i in new[] { 10, 2, 1, 33 })
        {
            using var m = new Mat(20, 30, MatType.CV_8UC3, Scalar.All(i));
            Cv2.ImWrite(dir.File($"frame{i}.png"), m);
        }
        File.WriteAllText(dir.File("notes.txt"), "not an image");
        await using var source = SourceFactory.Open(dir.Path);
        var frames = await Tools.ReadAll(source);
        Assert.Equal([1, 2, 10, 33], frames.Select(f => (int)f.Image.At<Vec3b>(0, 0).Item0));
        frames.ForEach(f => f.Dispose());
        await using var glob = SourceFactory.Open(Path.Combine(dir.Path, "frame1*.png"));
        Assert.Equal(2, glob.FrameCount);
    }

    [Fact]
    public async Task Image_folder_with_mixed_sizes_processes_each_at_its_size_and_warns_once()
    {
        using var dir = new TempDir();
        using (var a = new Mat(20, 30, MatType.CV_8UC3)) Cv2.ImWrite(dir.File("a1.png"), a);
        using (var b = new Mat(40, 50, MatType.CV_8UC3)) Cv2.ImWrite(dir.File("a2.png"), b);
        using (var c = new Mat(10, 10, MatType.CV_8UC3)) Cv2.ImWrite(dir.File("a3.png"), c);
        var events = new CollectingEvents();
        await using var source = new ImageFolderSource(dir.Path, events: events);
        var frames = await Tools.ReadAll(source);
        Assert.Equal([30, 50, 10], frames.Select(f => f.Width));
        Assert.Single(events.Warnings);
        frames.ForEach(f => f.Dispose());
    }

    [Fact]
    public void An_empty_image_folder_is_a_clear_error()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<SourceException>(() => new ImageFolderSource(dir.Path));
        Assert.Contains("holds no images", e.Message);
    }

    private static void WriteTum(TempDir dir, int frames, bool writeDepthFiles = true)
    {
        Directory.CreateDirectory(dir.File("rgb"));
        Directory.CreateDirectory(dir.File("depth"));
        var rgb = new List<string> { "# color images", "# timestamp filename" };
        var depth = new List<string> { "# depth maps" };
        for (var i = 0; i < frames; i++)
        {
            var t = 1305031102.175304 + i * 0.033;
            var td = t + 0.004 * (i % 3 - 1);
            rgb.Add(string.Create(CultureInfo.InvariantCulture, $"{t:F6} rgb/{t:F6}.png"));
            depth.Add(string.Create(CultureInfo.InvariantCulture, $"{td:F6} depth/{td:F6}.png"));
            using var img = new Mat(48, 64, MatType.CV_8UC3, Scalar.All(i * 20));
            Cv2.ImWrite(dir.File(string.Create(CultureInfo.InvariantCulture, $"rgb/{t:F6}.png")), img);
            if (!writeDepthFiles) continue;
            using var d = new Mat(48, 64, MatType.CV_16UC1, Scalar.All(5000 * (i + 1))); // (i + 1) metres at 1/5000 m
            d.Set(0, 0, (ushort)0);                                                     // a hole
            Cv2.ImWrite(dir.File(string.Create(CultureInfo.InvariantCulture, $"depth/{td:F6}.png")), d);
        }
        File.WriteAllLines(dir.File("rgb.txt"), rgb);
        File.WriteAllLines(dir.File("depth.txt"), depth);
    }

    [Fact]
    public async Task TUM_sequence_pairs_colour_and_depth_by_timestamp_in_metres()
    {
        using var dir = new TempDir();
        WriteTum(dir, 5);
        await using var source = SourceFactory.Open("tum:" + dir.Path);
        Assert.Equal(5, source.FrameCount);
        var frames = await Tools.ReadAll(source);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(i * 20, frames[i].Image.At<Vec3b>(10, 10).Item0);
            Assert.Equal(i + 1.0f, frames[i].Depth!.At<float>(10, 10), 4);
            Assert.Equal(0f, frames[i].Depth!.At<float>(0, 0));
            Assert.NotNull(frames[i].Intrinsics);
        }
        Assert.Equal(1 / 0.033, source.NominalFps!.Value, 1);
        frames.ForEach(f => f.Dispose());
    }

    [Fact]
    public void TUM_folder_missing_its_depth_files_is_a_clear_error_naming_the_file()
    {
        using var dir = new TempDir();
        WriteTum(dir, 3, writeDepthFiles: false);
        var e = Assert.Throws<SourceException>(() => SourceFactory.Open("tum:" + dir.Path));
        Assert.Contains("missing depth file", e.Message);
        Assert.Contains("depth/", e.Message);
    }

    [Fact]
    public void TUM_folder_without_depth_txt_is_a_clear_error()
    {
        using var dir = new TempDir();
        WriteTum(dir, 2);
        File.Delete(dir.File("depth.txt"));
        var e = Assert.Throws<SourceException>(() => SourceFactory.Open("tum:" + dir.Path));
        Assert.Contains("depth.txt", e.Message);
    }

    [Fact]
    public async Task NYU_folder_reads_colour_millimetre_depth_and_labels()
    {
        using var dir = new TempDir();
        foreach (var sub in new[] { "image", "depth", "labels" }) Directory.CreateDirectory(dir.File(sub));
        for (var i = 0; i < 3; i++)
        {
            using var img = new Mat(30, 40, MatType.CV_8UC3, Scalar.All(100 + i));
            using var d = new Mat(30, 40, MatType.CV_16UC1, Scalar.All(1500 + i * 100));
            using var l = new Mat(30, 40, MatType.CV_8UC1, Scalar.All(i + 4));
            Cv2.ImWrite(dir.File($"image/{i:D4}.png"), img);
            Cv2.ImWrite(dir.File($"depth/{i:D4}.png"), d);
            Cv2.ImWrite(dir.File($"labels/{i:D4}.png"), l);
        }
        await using var source = SourceFactory.Open("nyu:" + dir.Path);
        var frames = await Tools.ReadAll(source);
        Assert.Equal(3, frames.Count);
        Assert.Equal(1.7f, frames[2].Depth!.At<float>(5, 5), 4);
        Assert.Equal(6, frames[2].Labels!.At<byte>(5, 5));
        frames.ForEach(f => f.Dispose());
    }

    [Fact]
    public void Depth_png_of_the_wrong_type_is_rejected_and_nan_inf_become_invalid()
    {
        using var dir = new TempDir();
        using (var eight = new Mat(10, 10, MatType.CV_8UC3, Scalar.All(9))) Cv2.ImWrite(dir.File("d8.png"), eight);
        var e = Assert.Throws<SourceException>(() => DepthImage.LoadPng16(dir.File("d8.png"), 1000));
        Assert.Contains("not a 16-bit", e.Message);

        using var f = new Mat(1, 4, MatType.CV_32FC1);
        f.Set(0, 0, float.NaN); f.Set(0, 1, float.PositiveInfinity); f.Set(0, 2, -1f); f.Set(0, 3, 2.5f);
        Assert.Equal(1, DepthImage.SanitiseInPlace(f));
        Assert.Equal([0f, 0f, 0f, 2.5f], new[] { f.At<float>(0, 0), f.At<float>(0, 1), f.At<float>(0, 2), f.At<float>(0, 3) });
    }
}
