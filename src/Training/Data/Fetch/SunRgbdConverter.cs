using System.IO.Compression;
using OpenCvSharp;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Labels;

namespace RealtimeMtl.Training.Data.Fetch;

/// <summary>
/// Lays out SUN RGB-D (Song, Lichtenberg and Xiao, CVPR 2015) for <see cref="FolderDataset"/> from its two official
/// archives: SUNRGBD.zip (one folder per RGB-D image: image/*.jpg, depth_bfx/*.png and depth/*.png with the bits
/// rotated, seg.mat with <c>seglabel</c>, object indices per pixel, and <c>names</c>, each object's name) and
/// SUNRGBDtoolbox.zip (traintestSUNRGBD/allsplit.mat: <c>alltrain</c> / <c>alltest</c>, the 5285 / 5050 split).
/// Labels follow the 37-class benchmark: an object whose name is one of the 37 class names (case, spaces and
/// underscores aside) takes that class; other objects and unlabelled pixels are 0 (ignored in training). The toolbox's
/// hand-made mapping of every raw name (SUNRGBD2Dseg.mat, MATLAB v7.3) is not read, so objects with other raw names
/// stay unlabelled; the converter reports the labelled share of pixels.
/// </summary>
public static class SunRgbdConverter
{
    public const string Archive = "SUNRGBD.zip", Toolbox = "SUNRGBDtoolbox.zip";

    public sealed record Result(int Train, int Test, int Missing, double LabelledShare, double MatchedObjectShare);

    public static Result Prepare(string folder, IEventLog log)
    {
        var (train, test) = ReadSplit(Path.Combine(folder, Toolbox));
        using var zip = ZipFile.OpenRead(Path.Combine(folder, Archive));
        var scenesInZip = Index(zip);
        foreach (var sub in new[] { "image", "depth", "label" }) Directory.CreateDirectory(Path.Combine(folder, sub));
        var classIndex = ClassIndex(LabelSet.SunRgbd37);
        long labelled = 0, pixels = 0, objects = 0, matched = 0;
        var missing = 0;
        List<string> Convert(IReadOnlyList<string> scenes, string split)
        {
            var stems = new List<string>();
            for (var i = 0; i < scenes.Count; i++)
            {
                var rel = Relative(scenes[i]);
                if (!scenesInZip.TryGetValue(rel, out var scene) || scene.Image is null || (scene.DepthFilled ?? scene.Depth) is not { } depth
                    || scene.Seg is not { } seg)
                {
                    missing++;
                    continue;
                }
                var stem = rel.Replace('/', '_');
                scene.Image.ExtractToFile(Path.Combine(folder, "image", stem + ".jpg"), overwrite: true);
                depth.ExtractToFile(Path.Combine(folder, "depth", stem + ".png"), overwrite: true);
                var (l, p, o, m) = WriteLabels(seg, Path.Combine(folder, "label", stem + ".png"), classIndex, folder);
                labelled += l; pixels += p; objects += o; matched += m;
                stems.Add(stem);
                if ((i + 1) % 500 == 0) log.Info($"sunrgbd: {split} {i + 1}/{scenes.Count}");
            }
            AtomicFile.WriteLines(Path.Combine(folder, split + ".txt"), stems);
            return stems;
        }
        var a = Convert(train, "train");
        var b = Convert(test, "test");
        if (a.Count == 0 || b.Count == 0)
            throw new InvalidDataException($"'{Path.Combine(folder, Archive)}' holds none of the {(a.Count == 0 ? "train" : "test")} images that " +
                $"allsplit.mat lists; is it the SUNRGBD.zip of rgbd.cs.princeton.edu?");
        return new Result(a.Count, b.Count, missing, pixels == 0 ? 0 : (double)labelled / pixels, objects == 0 ? 0 : (double)matched / objects);
    }

    private sealed class Scene
    {
        public ZipArchiveEntry? Image, Depth, DepthFilled, Seg;
    }

    /// <summary>The archive's scenes by their path under SUNRGBD/: the colour image, the depth images and seg.mat of each.</summary>
    private static Dictionary<string, Scene> Index(ZipArchive zip)
    {
        var scenes = new Dictionary<string, Scene>(StringComparer.Ordinal);
        Scene At(string dir) => scenes.TryGetValue(dir, out var s) ? s : scenes[dir] = new Scene();
        foreach (var e in zip.Entries)
        {
            var name = e.FullName;
            if (!name.StartsWith("SUNRGBD/", StringComparison.Ordinal)) continue;
            var path = name["SUNRGBD/".Length..];
            var slash = path.LastIndexOf('/');
            if (slash <= 0) continue;
            var dir = path[..slash];
            var file = path[(slash + 1)..];
            if (file == "seg.mat") { At(dir).Seg = e; continue; }
            var parent = dir.LastIndexOf('/');
            if (parent <= 0) continue;
            var (scene, sub) = (dir[..parent], dir[(parent + 1)..]);
            if (sub == "image" && file.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)) At(scene).Image = e;
            else if (sub == "depth_bfx" && file.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) At(scene).DepthFilled = e;
            else if (sub == "depth" && file.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) At(scene).Depth = e;
        }
        return scenes;
    }

    /// <summary>alltrain / alltest of the toolbox's allsplit.mat (cell arrays of scene paths).</summary>
    public static (IReadOnlyList<string> Train, IReadOnlyList<string> Test) ReadSplit(string toolbox)
    {
        using var zip = ZipFile.OpenRead(toolbox);
        var entry = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("traintestSUNRGBD/allsplit.mat", StringComparison.Ordinal))
            ?? throw new InvalidDataException($"'{toolbox}' has no traintestSUNRGBD/allsplit.mat; is it the SUNRGBDtoolbox.zip of " +
                $"rgbd.cs.princeton.edu?");
        var tmp = Path.GetTempFileName();
        try
        {
            entry.ExtractToFile(tmp, overwrite: true);
            var vars = MatV5Reader.Read(tmp);
            IReadOnlyList<string> Need(string name) => vars.TryGetValue(name, out var v) && v.Strings is { Count: > 0 } s ? s
                : throw new InvalidDataException($"'{toolbox}': allsplit.mat has no cell array '{name}' of scene paths (found: " +
                    $"{string.Join(", ", vars.Keys)})");
            return (Need("alltrain"), Need("alltest"));
        }
        finally { File.Delete(tmp); }
    }

    /// <summary>A scene path of allsplit.mat ("/n/fs/sun3d/data/SUNRGBD/kv1/NYUdata/NYU0001/") inside the archive: "kv1/NYUdata/NYU0001".</summary>
    public static string Relative(string scene)
    {
        var s = scene.Replace('\\', '/').Trim().TrimEnd('/');
        var at = s.LastIndexOf("SUNRGBD/", StringComparison.Ordinal);
        return at >= 0 ? s[(at + "SUNRGBD/".Length)..] : s.TrimStart('/');
    }

    /// <summary>"Night_Stand", "night stand" and "night-stand" are the same name.</summary>
    public static string Normalise(string name) => string.Join(' ', name.ToLowerInvariant().Replace('_', ' ').Replace('-', ' ').Split(' ',
        StringSplitOptions.RemoveEmptyEntries));

    private static Dictionary<string, int> ClassIndex(LabelSet set) =>
        set.Classes.Select((c, i) => (Normalise(c), i)).ToDictionary(p => p.Item1, p => p.i);

    /// <summary>seg.mat to a label PNG (0 unlabelled, k = class k of the 37); returns labelled and total pixels, objects and matched
    /// objects.</summary>
    private static (long Labelled, long Pixels, int Objects, int Matched) WriteLabels(ZipArchiveEntry seg, string png, Dictionary<string,
        int> classIndex, string folder)
    {
        var tmp = Path.Combine(folder, ".seg.mat.tmp");
        seg.ExtractToFile(tmp, overwrite: true);
        Dictionary<string, MatV5Reader.Variable> vars;
        try { vars = MatV5Reader.Read(tmp); }
        finally { File.Delete(tmp); }
        if (!vars.TryGetValue("seglabel", out var label) || label.Dims.Length != 2)
            throw new InvalidDataException($"'{seg.FullName}' has no 2-D 'seglabel' (found: {string.Join(", ", vars.Keys)})");
        var names = vars.TryGetValue("names", out var n) && n.Strings is { } s ? s : [];
        // Object k (1-based in seglabel) -> class id + 1, or 0.
        var map = names.Select(name => classIndex.TryGetValue(Normalise(name), out var c) ? c + 1 : 0).ToArray();
        int h = label.Dims[0], w = label.Dims[1];
        var pixels = new byte[h * w];
        long labelled = 0;
        // MATLAB stores column-major: value (y, x) at x * h + y.
        for (var x = 0; x < w; x++)
            for (var y = 0; y < h; y++)
            {
                var k = (int)label.Values[x * h + y];
                var cls = k >= 1 && k <= map.Length ? map[k - 1] : 0;
                if (cls == 0) continue;
                pixels[y * w + x] = (byte)cls;
                labelled++;
            }
        using (var mat = Mat.FromPixelData(h, w, MatType.CV_8UC1, pixels)) Cv2.ImWrite(png, mat);
        return (labelled, (long)w * h, map.Length, map.Count(c => c > 0));
    }
}
