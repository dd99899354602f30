using System.Collections.Concurrent;
using OpenCvSharp;
using RealtimeMtl.Capture.Sources;

namespace RealtimeMtl.Training.Data;

/// <summary>
/// A data set in the common folder layout: image/ (colour), depth/ (PNG16), label/ (PNG8, 0 = unlabelled,
/// k = class k), train.txt / test.txt (file stems). NYUD-v2 depth PNGs hold millimetres; SUN RGB-D depth PNGs hold
/// millimetres with the 16 bits rotated right by 3 (value = (v &gt;&gt; 3) | (v &lt;&lt; 13)).
/// </summary>
public sealed class FolderDataset : ISegDepthDataset
{
    public enum Format { NyuMillimetres, SunRgbdRotated }

    private readonly string _root;
    private readonly string[] _stems;
    private readonly Format _format;
    private readonly int _w, _h;
    private readonly ConcurrentDictionary<int, Sample> _cache = new();

    public FolderDataset(string root, string split, int width, int height, Format format, int classes)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"data set folder '{root}' does not exist; pass the folder holding " +
            $"image/, depth/, label/ and {split}.txt with --data.");
        var listPath = Path.Combine(root, split + ".txt");
        if (!File.Exists(listPath)) throw new FileNotFoundException($"data set folder '{root}' has no {split}.txt listing its {split} files.");
        _stems = File.ReadAllLines(listPath).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (_stems.Length == 0) throw new InvalidDataException($"{listPath} lists no files.");
        _root = root;
        _format = format;
        _w = width; _h = height;
        Classes = classes;
        Name = $"{(format == Format.SunRgbdRotated ? "sunrgbd" : "nyud-v2")}({split})";
    }

    public string Name { get; }
    public int Count => _stems.Length;
    public int Classes { get; }

    public Sample Get(int index) => _cache.GetOrAdd(index, Load);

    /// <summary>SUN RGB-D stores depth with its bits rotated: undo the rotation to get millimetres.</summary>
    public static ushort SunRgbdToMillimetres(ushort v) => (ushort)((v >> 3) | (v << 13));

    private Sample Load(int index)
    {
        var stem = _stems[index];
        var imagePath = Find(Path.Combine(_root, "image"), stem);
        using var image = Cv2.ImRead(imagePath, ImreadModes.Color);
        if (image.Empty()) throw new InvalidDataException($"image '{imagePath}' could not be decoded");
        var depthPath = Path.Combine(_root, "depth", stem + ".png");
        using var depth = new Mat();
        if (_format == Format.NyuMillimetres)
        {
            using var m = DepthImage.LoadPng16(depthPath, 1000.0);
            m.CopyTo(depth);
        }
        else
        {
            using var raw = Cv2.ImRead(depthPath, ImreadModes.Unchanged);
            if (raw.Empty() || raw.Type() != MatType.CV_16UC1) throw new InvalidDataException($"depth image '{depthPath}' must be a 16-bit PNG");
            using var mm = new Mat(raw.Size(), MatType.CV_16UC1);
            unsafe
            {
                var s = (ushort*)raw.Data; var d = (ushort*)mm.Data;
                var count = raw.Rows * raw.Cols;
                for (var i = 0; i < count; i++) d[i] = SunRgbdToMillimetres(s[i]);
            }
            mm.ConvertTo(depth, MatType.CV_32FC1, 1 / 1000.0);
        }
        var labelPath = Path.Combine(_root, "label", stem + ".png");
        using var labels = File.Exists(labelPath) ? Cv2.ImRead(labelPath, ImreadModes.Unchanged) : new Mat(image.Size(), MatType.CV_8UC1,
            Scalar.All(0));
        if (labels.Type() != MatType.CV_8UC1) throw new InvalidDataException($"label image '{labelPath}' must be an 8-bit PNG of class ids");
        // 0 = unlabelled -> 255; k -> k - 1; ids beyond the label set are ignored too.
        using var zeroBased = new Mat();
        labels.ConvertTo(zeroBased, MatType.CV_8UC1, 1, -1);
        using var unlabelled = new Mat();
        Cv2.Compare(labels, new Scalar(0), unlabelled, CmpTypes.EQ);
        using var beyond = new Mat();
        Cv2.Compare(labels, new Scalar(Classes), beyond, CmpTypes.GT);
        zeroBased.SetTo(255, unlabelled);
        zeroBased.SetTo(255, beyond);
        return ToSample(image, depth, zeroBased, _w, _h);
    }

    private static string Find(string dir, string stem)
    {
        foreach (var ext in new[] { ".jpg", ".png", ".jpeg" })
        {
            var p = Path.Combine(dir, stem + ext);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"no image for '{stem}' in {dir}");
    }

    /// <summary>Resizes to the training size (area for colour, nearest for depth and labels) and copies out.</summary>
    public static Sample ToSample(Mat image, Mat depth, Mat labels, int w, int h)
    {
        using var i2 = new Mat(); using var d2 = new Mat(); using var l2 = new Mat();
        Cv2.Resize(image, i2, new Size(w, h), 0, 0, InterpolationFlags.Area);
        Cv2.Resize(depth, d2, new Size(w, h), 0, 0, InterpolationFlags.Nearest);
        Cv2.Resize(labels, l2, new Size(w, h), 0, 0, InterpolationFlags.Nearest);
        var img = new byte[w * h * 3]; var d = new float[w * h]; var l = new byte[w * h];
        System.Runtime.InteropServices.Marshal.Copy(i2.Data, img, 0, img.Length);
        System.Runtime.InteropServices.Marshal.Copy(d2.Data, d, 0, d.Length);
        System.Runtime.InteropServices.Marshal.Copy(l2.Data, l, 0, l.Length);
        for (var k = 0; k < d.Length; k++) if (!float.IsFinite(d[k]) || d[k] < 0) d[k] = 0;
        return new Sample(img, d, l, w, h);
    }
}
