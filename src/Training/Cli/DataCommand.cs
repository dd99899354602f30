using System.CommandLine;
using System.Globalization;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Data.Fetch;

namespace RealtimeMtl.Training.Cli;

/// <summary><c>rtmtl data fetch nyu|sun</c>: download the official NYUD-v2 or SUN RGB-D files and lay them out for <c>--dataset nyu-mat</c> or
/// <c>--dataset sunrgbd</c>.</summary>
internal static class DataCommand
{
    /// <summary>The labeled NYUD-v2 release (Silberman et al., ECCV 2012), its 795/654 split, and Gupta et al.'s 894-to-40 class map.</summary>
    public static IReadOnlyList<RemoteFile> Nyu(Uri? mirror) =>
    [
        new("nyu_depth_v2_labeled.mat", At(mirror, "http://horatio.cs.nyu.edu/mit/silberman/nyu_depth_v2/nyu_depth_v2_labeled.mat")),
        new("splits.mat", At(mirror, "http://horatio.cs.nyu.edu/mit/silberman/indoor_seg_sup/splits.mat")),
        new("classMapping40.mat", At(mirror, "https://github.com/VainF/nyuv2-python-toolkit/raw/master/classMapping40.mat")),
    ];

    /// <summary>SUN RGB-D (Song et al., CVPR 2015): the images with their per-object labels, and the toolbox with the 5285/5050 split.</summary>
    public static IReadOnlyList<RemoteFile> Sun(Uri? mirror) =>
    [
        new(SunRgbdConverter.Archive, At(mirror, "http://rgbd.cs.princeton.edu/data/SUNRGBD.zip")),
        new(SunRgbdConverter.Toolbox, At(mirror, "http://rgbd.cs.princeton.edu/data/SUNRGBDtoolbox.zip")),
    ];

    private static Uri At(Uri? mirror, string official)
    {
        if (mirror is null) return new Uri(official);
        var name = official[(official.LastIndexOf('/') + 1)..];
        var baseUri = mirror.AbsoluteUri.EndsWith('/') ? mirror : new Uri(mirror.AbsoluteUri + "/");
        return new Uri(baseUri, name);
    }

    public static Command Build()
    {
        var dataset = new Argument<string>("dataset")
        {
            Description =
            "nyu (NYUD-v2 labeled: 1449 RGB-D images, 795 train / 654 test, 40 classes) or sun (SUN RGB-D: 10335 RGB-D images, 5285 train / 5050 " +
                "test, 37 classes)"
        };
        var to = new Option<string>("--to") { Description = "Folder to download into and prepare (created if missing)", Required = true };
        var url = new Option<string?>("--url")
        {
            Description =
            "A mirror holding the same file names (nyu: nyu_depth_v2_labeled.mat, splits.mat, classMapping40.mat; sun: SUNRGBD.zip, " +
                "SUNRGBDtoolbox.zip) instead of the official servers"
        };
        var sha = new Option<string?>("--sha256")
        {
            Description =
            "The SHA-256 the main file (nyu: the labeled .mat; sun: SUNRGBD.zip) must have (the official sites publish none; without it the " +
                "computed hash is recorded in SHA256SUMS and checked on later runs)"
        };
        var size = new Option<long?>("--size") { Description = "The size in bytes the main file must have" };
        var fetch = new Command("fetch", """
            Download a public RGB-D data set and prepare it for ./rtmtl train. Partial downloads resume (Range requests,
            also when run again); sizes and SHA-256 are checked, and a corrupt file is removed, never used.
            Examples:
              ./rtmtl data fetch nyu --to data/nyu
              ./rtmtl train --dataset nyu-mat --data data/nyu/nyu_depth_v2_labeled.mat
              ./rtmtl data fetch sun --to data/sun          (about 6.9 GB; converted to image/, depth/, label/, train.txt, test.txt)
              ./rtmtl train --dataset sunrgbd --data data/sun
            """) { dataset, to, url, sha, size };
        fetch.SetAction(async (r, ct) =>
        {
            var name = r.GetValue(dataset)!;
            var sun = name is "sun" or "sunrgbd";
            if (!sun && name != "nyu") throw new ArgumentException($"data set '{name}' is unknown; use nyu or sun");
            Uri? mirror = null;
            if (r.GetValue(url) is { } u && (!Uri.TryCreate(u, UriKind.Absolute, out mirror) || mirror.Scheme is not ("http" or "https")))
                throw new ArgumentException($"--url '{u}' is not an http(s) address");
            if (r.GetValue(sha) is { } h && (h.Length != 64 || !h.All(Uri.IsHexDigit)))
                throw new ArgumentException($"--sha256 '{h}' is not 64 hexadecimal digits");
            var folder = r.GetValue(to)!;
            OutputFolder.Ensure(folder, "--to");
            var files = (sun ? Sun(mirror) : Nyu(mirror)).ToList();
            files[0] = files[0] with { Sha256 = r.GetValue(sha), Size = r.GetValue(size) };
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            http.DefaultRequestHeaders.UserAgent.ParseAdd("rtmtl-data-fetch/1");
            var downloader = new Downloader(http, TextEventLog.StandardError);
            foreach (var f in files) await downloader.FetchAsync(f, folder, ct);
            if (sun)
            {
                var result = SunRgbdConverter.Prepare(folder, TextEventLog.StandardError);
                var missing = result.Missing > 0 ? $"; {result.Missing} listed scenes not in the archive" : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"SUN RGB-D ready in {folder}: {result.Train} train / {result.Test} test images, 37 classes; {result.LabelledShare:P1} of " +
                        $"pixels labelled ({result.MatchedObjectShare:P1} of objects carry a class name){missing}"));
                Console.WriteLine($"train with: ./rtmtl train --dataset sunrgbd --data {folder}");
                return 0;
            }
            var (train, test, classes) = PrepareNyu(folder);
            Console.WriteLine($"NYUD-v2 ready in {folder}: {train} train / {test} test images, {classes} classes");
            Console.WriteLine($"train with: ./rtmtl train --dataset nyu-mat --data {Path.Combine(folder, "nyu_depth_v2_labeled.mat")}");
            return 0;
        });
        return new Command("data", "Public data sets: download and prepare (see ./rtmtl data fetch --help)") { fetch };
    }

    /// <summary>
    /// Writes what <see cref="NyuMatDataset"/> reads beside the .mat: train.txt / test.txt from splits.mat
    /// (trainNdxs, testNdxs: 1-based image indices) and nyu40_mapping.txt from classMapping40.mat (mapClass: the
    /// 40-class id of each raw class), then opens both splits to check them.
    /// </summary>
    public static (int Train, int Test, int Classes) PrepareNyu(string folder)
    {
        var splits = MatV5Reader.Read(Path.Combine(folder, "splits.mat"));
        var mapping = MatV5Reader.Read(Path.Combine(folder, "classMapping40.mat"));
        double[] Need(Dictionary<string, MatV5Reader.Variable> vars, string file, string name) =>
            vars.TryGetValue(name, out var v) ? v.Values
                : throw new InvalidDataException($"'{Path.Combine(folder, file)}' has no numeric variable '{name}' (found: " +
                    $"{string.Join(", ", vars.Keys)})");
        static IEnumerable<string> Ints(double[] v) => v.Select(x => ((long)x).ToString(CultureInfo.InvariantCulture));
        var trainIdx = Need(splits, "splits.mat", "trainNdxs");
        var testIdx = Need(splits, "splits.mat", "testNdxs");
        var map = Need(mapping, "classMapping40.mat", "mapClass");
        if (map.Any(x => x < 0 || x > 40)) throw new InvalidDataException($"'{Path.Combine(folder, "classMapping40.mat")}': mapClass must hold " +
            $"classes 0-40");
        AtomicFile.WriteLines(Path.Combine(folder, "train.txt"), Ints(trainIdx));
        AtomicFile.WriteLines(Path.Combine(folder, "test.txt"), Ints(testIdx));
        AtomicFile.WriteLines(Path.Combine(folder, "nyu40_mapping.txt"), Ints(map));
        var mat = Path.Combine(folder, "nyu_depth_v2_labeled.mat");
        using var a = new NyuMatDataset(mat, "train", 64, 48);
        using var b = new NyuMatDataset(mat, "test", 64, 48);
        a.Get(0);
        return (a.Count, b.Count, a.Classes);
    }
}
