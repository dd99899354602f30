using OpenCvSharp;
using PureHDF;
using RealtimeMtl.Training.Data;

namespace RealtimeMtl.Training.Tests;

public class DatasetReaderTests
{
    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "rtmtl-data-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void NYUD_v2_labeled_mat_reads_column_major_images_depth_and_maps_labels_to_40_classes()
    {
        var dir = TempDir();
        try
        {
            const int n = 3, w = 8, h = 6;
            // MATLAB column-major: HDF5 sees [N, C, W, H] for images, [N, W, H] for depths and labels.
            var images = new byte[n * 3 * w * h];
            var depths = new float[n * w * h];
            var labels = new ushort[n * w * h];
            for (var i = 0; i < n; i++)
                for (var x = 0; x < w; x++)
                    for (var y = 0; y < h; y++)
                    {
                        var plane = w * h;
                        images[i * 3 * plane + 0 * plane + x * h + y] = (byte)(10 * x);      // R
                        images[i * 3 * plane + 1 * plane + x * h + y] = (byte)(10 * y);      // G
                        images[i * 3 * plane + 2 * plane + x * h + y] = (byte)(100 + i);     // B
                        depths[i * plane + x * h + y] = 1f + x * 0.1f + i;
                        labels[i * plane + x * h + y] = (ushort)(y == 0 ? 0 : 1 + (x % 3)); // raw ids 1..3, 0 unlabelled
                    }
            var file = new H5File
            {
                ["images"] = new H5Dataset(images, fileDims: [n, 3, w, h]),
                ["depths"] = new H5Dataset(depths, fileDims: [n, w, h]),
                ["labels"] = new H5Dataset(labels, fileDims: [n, w, h]),
            };
            var mat = Path.Combine(dir, "nyu_depth_v2_labeled.mat");
            file.Write(mat);
            File.WriteAllLines(Path.Combine(dir, "nyu40_mapping.txt"), ["5", "12", "0"]); // raw 1 -> 5, raw 2 -> 12, raw 3 -> unlabelled
            File.WriteAllLines(Path.Combine(dir, "train.txt"), ["1", "3"]);
            File.WriteAllLines(Path.Combine(dir, "test.txt"), ["2"]);

            using var train = new NyuMatDataset(mat, "train", w, h);
            Assert.Equal(2, train.Count);
            var s = train.Get(1); // image 3 (i = 2)
            int px(int x, int y) => (y * w + x);
            Assert.Equal(102, s.Image[px(4, 2) * 3 + 0]); // B
            Assert.Equal(20, s.Image[px(4, 2) * 3 + 1]);  // G = 10 y
            Assert.Equal(40, s.Image[px(4, 2) * 3 + 2]);  // R = 10 x
            Assert.Equal(3.4f, s.Depth[px(4, 2)], 4);
            Assert.Equal(255, s.Labels[px(4, 0)]);        // unlabelled row
            Assert.Equal(4, s.Labels[px(0, 3)]);          // raw 1 -> class 5 -> index 4
            Assert.Equal(11, s.Labels[px(1, 3)]);         // raw 2 -> class 12 -> index 11
            Assert.Equal(255, s.Labels[px(2, 3)]);        // raw 3 -> 0 -> ignore
            using var test = new NyuMatDataset(mat, "test", w, h);
            Assert.Equal(101, test.Get(0).Image[2 * 3]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Missing_mat_file_says_it_cannot_be_downloaded_here()
    {
        var e = Assert.Throws<FileNotFoundException>(() => new NyuMatDataset("/nope/nyu.mat", "train", 8, 8));
        Assert.Contains("/nope/nyu.mat", e.Message);
    }

    private static void WriteFolder(string dir, bool sun)
    {
        foreach (var sub in new[] { "image", "depth", "label" }) Directory.CreateDirectory(Path.Combine(dir, sub));
        for (var i = 0; i < 2; i++)
        {
            using var img = new Mat(12, 16, MatType.CV_8UC3, new Scalar(10, 20, 30 + i));
            Cv2.ImWrite(Path.Combine(dir, "image", $"s{i}.jpg"), img);
            ushort mm = (ushort)(2500 + i * 500);
            ushort stored = sun ? (ushort)((mm << 3) | (mm >> 13)) : mm;
            using var d = new Mat(12, 16, MatType.CV_16UC1, Scalar.All(stored));
            Cv2.ImWrite(Path.Combine(dir, "depth", $"s{i}.png"), d);
            using var l = new Mat(12, 16, MatType.CV_8UC1, Scalar.All(3));
            l.Set(0, 0, (byte)0);
            Cv2.ImWrite(Path.Combine(dir, "label", $"s{i}.png"), l);
        }
        File.WriteAllLines(Path.Combine(dir, "train.txt"), ["s0", "s1"]);
        File.WriteAllLines(Path.Combine(dir, "test.txt"), ["s1"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Folder_layouts_of_NYUD_v2_and_SUN_RGBD_decode_depth_and_one_based_labels(bool sun)
    {
        var dir = TempDir();
        try
        {
            WriteFolder(dir, sun);
            var ds = new FolderDataset(dir, "train", 16, 12, sun ? FolderDataset.Format.SunRgbdRotated : FolderDataset.Format.NyuMillimetres,
                sun ? 37 : 40);
            Assert.Equal(2, ds.Count);
            var s = ds.Get(1);
            Assert.Equal(3.0f, s.Depth[20], 3);
            Assert.Equal(2, s.Labels[20]);       // 1-based 3 -> 0-based 2
            Assert.Equal(255, s.Labels[0]);      // 0 = unlabelled -> ignore
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SUN_RGBD_depth_bit_rotation_round_trips()
    {
        foreach (ushort mm in new ushort[] { 0, 1, 1234, 8191, 4000 })
        {
            var stored = (ushort)((mm << 3) | (mm >> 13));
            Assert.Equal(mm, FolderDataset.SunRgbdToMillimetres(stored));
        }
    }

    [Fact]
    public void Synthetic_splits_are_disjoint_and_deterministic()
    {
        var a = new SyntheticDataset(1, Split.Train, 4, 64, 48);
        var b = new SyntheticDataset(1, Split.Train, 4, 64, 48);
        var t = new SyntheticDataset(1, Split.Test, 4, 64, 48);
        Assert.Equal(a.Get(2).Image, b.Get(2).Image);
        Assert.NotEqual(a.Get(2).Image, t.Get(2).Image);
    }

    [Fact]
    public void Augmentation_keeps_image_labels_and_depth_aligned_and_scales_depth_by_the_zoom()
    {
        // A sample whose label and depth encode the column: after any zoom/flip, they must still agree per pixel.
        const int w = 32, h = 24;
        var img = new byte[w * h * 3]; var depth = new float[w * h]; var labels = new byte[w * h];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                labels[y * w + x] = (byte)x;
                depth[y * w + x] = 1 + x;
                img[(y * w + x) * 3] = (byte)(x * 4);
            }
        var aug = new Augmentation(MaxZoom: 1.5, Flip: true, Brightness: 0, Contrast: 0, ChannelGain: 0);
        var rng = new Random(5);
        for (var k = 0; k < 20; k++)
        {
            var s = aug.Apply(new Data.Sample(img, depth, labels, w, h), rng);
            // zoom = (1 + x) / depth for any pixel; the same for all pixels of one sample.
            var zoom = (1 + s.Labels[0]) / s.Depth[0];
            Assert.InRange(zoom, 0.99, 1.51);
            for (var i = 0; i < w * h; i++)
            {
                Assert.Equal((1 + s.Labels[i]) / zoom, s.Depth[i], 3);
                Assert.Equal(s.Labels[i] * 4, s.Image[i * 3]);
            }
        }
    }
}
