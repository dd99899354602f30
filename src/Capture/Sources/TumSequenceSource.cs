using System.Globalization;

namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// A TUM RGB-D sequence: rgb.txt and depth.txt list "timestamp path"; depth PNG16 at 1/5000 m. Each colour
/// image is paired with the depth image nearest in time, within <see cref="MaxDifferenceSeconds"/> (as TUM's
/// associate.py does); unpaired colour images are skipped.
/// </summary>
public sealed class TumSequenceSource : IFrameSource
{
    public const double DepthUnitsPerMetre = 5000.0;
    public const double MaxDifferenceSeconds = 0.02;
    private readonly List<(double Time, string Rgb, string Depth)> _pairs;
    private readonly string _root;

    private readonly bool _realtime;

    /// <param name="realtime">Pace frames by their own timestamps (--realtime), as the sensor delivered them.</param>
    public TumSequenceSource(string root, CameraIntrinsics? intrinsics = null, bool realtime = false)
    {
        _realtime = realtime;
        _root = root;
        if (!Directory.Exists(root)) throw new SourceException($"TUM sequence '{root}' does not exist; check the path.");
        var rgb = ReadList(root, "rgb.txt");
        var depth = ReadList(root, "depth.txt");
        if (depth.Count == 0) throw new SourceException($"TUM sequence '{root}' lists no depth images in depth.txt; the sequence is incomplete.");
        _pairs = Associate(rgb, depth);
        if (_pairs.Count == 0) throw new SourceException($"TUM sequence '{root}': no colour image has a depth image within " +
            $"{MaxDifferenceSeconds * 1000:0} ms; check the timestamps.");
        var missing = _pairs.Select(p => p.Depth).FirstOrDefault(d => !File.Exists(Path.Combine(root, d)));
        if (missing is not null) throw new SourceException($"TUM sequence '{root}' is missing depth file '{missing}' listed in depth.txt; restore " +
            $"the file or fix depth.txt.");
        Intrinsics = intrinsics ?? new CameraIntrinsics(525.0, 525.0, 319.5, 239.5, 640, 480);
        var span = _pairs[^1].Time - _pairs[0].Time;
        NominalFps = _pairs.Count > 1 && span > 0 ? (_pairs.Count - 1) / span : null;
    }

    public CameraIntrinsics Intrinsics { get; }
    public string Description => $"TUM sequence {_root}";
    public bool IsLive => false;
    public double? NominalFps { get; }
    public long? FrameCount => _pairs.Count;

    private static List<(double, string)> ReadList(string root, string name)
    {
        var path = Path.Combine(root, name);
        if (!File.Exists(path)) throw new SourceException($"TUM sequence '{root}' has no {name}; a TUM folder holds rgb.txt, depth.txt, rgb/ and " +
            $"depth/.");
        var list = new List<(double, string)>();
        foreach (var line in File.ReadLines(path))
        {
            var t = line.Trim();
            if (t.Length == 0 || t[0] == '#') continue;
            var parts = t.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var ts))
                throw new SourceException($"TUM list '{path}' has a malformed line '{t}'; expected 'timestamp filename'.");
            list.Add((ts, parts[1]));
        }
        return list;
    }

    /// <summary>Greedy nearest-timestamp matching, closest pairs first, each depth used once.</summary>
    public static List<(double Time, string Rgb, string Depth)> Associate(IReadOnlyList<(double, string)> rgb, IReadOnlyList<(double, string)> depth)
    {
        var candidates = new List<(double Diff, int R, int D)>();
        var depthTimes = depth.Select(d => d.Item1).ToArray();
        for (var r = 0; r < rgb.Count; r++)
        {
            var t = rgb[r].Item1;
            var idx = Array.BinarySearch(depthTimes, t);
            if (idx < 0) idx = ~idx;
            for (var k = Math.Max(0, idx - 2); k < Math.Min(depth.Count, idx + 2); k++)
            {
                var diff = Math.Abs(depthTimes[k] - t);
                if (diff < MaxDifferenceSeconds) candidates.Add((diff, r, k));
            }
        }
        var usedR = new HashSet<int>();
        var usedD = new HashSet<int>();
        var pairs = new List<(double, string, string)>();
        foreach (var (_, r, d) in candidates.OrderBy(c => c.Diff))
        {
            if (usedR.Contains(r) || usedD.Contains(d)) continue;
            usedR.Add(r); usedD.Add(d);
            pairs.Add((rgb[r].Item1, rgb[r].Item2, depth[d].Item2));
        }
        return pairs.OrderBy(p => p.Item1).ToList();
    }

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long sequence = 0;
        var start = Stopwatch.GetTimestamp();
        foreach (var (time, rgbFile, depthFile) in _pairs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_realtime)
            {
                var wait = TimeSpan.FromSeconds(time - _pairs[0].Time) - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
            var rgbPath = Path.Combine(_root, rgbFile);
            var image = Cv2.ImRead(rgbPath, ImreadModes.Color);
            if (image.Empty())
            {
                image.Dispose();
                throw new SourceException($"TUM colour image '{rgbPath}' is missing or corrupt; restore it or remove it from rgb.txt.");
            }
            var depth = DepthImage.LoadPng16(Path.Combine(_root, depthFile), DepthUnitsPerMetre);
            yield return new Frame(sequence, Stopwatch.GetTimestamp(), image)
            {
                Depth = depth,
                Intrinsics = Intrinsics.ScaledTo(image.Width, image.Height),
                NominalFps = NominalFps,
                MediaTimeSeconds = time - _pairs[0].Time,
                // TUM timestamps are the sensor's Unix time in seconds (microsecond digits).
                SensorTimeUnixNs = (long)Math.Round(time * 1e6) * 1000,
            };
            sequence++;
            if (sequence % 8 == 0) await Task.Yield();
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
