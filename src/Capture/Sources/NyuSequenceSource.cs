namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// An NYU-style RGB-D folder: image/ (colour), depth/ (PNG16 millimetres), optional labels/ (PNG8 class index,
/// 255 = ignore), files paired by name stem, in natural order.
/// </summary>
public sealed class NyuSequenceSource : IFrameSource
{
    public const double DepthUnitsPerMetre = 1000.0;
    private readonly string _root;
    private readonly List<(string Image, string Depth, string? Labels)> _items = [];

    public NyuSequenceSource(string root, CameraIntrinsics? intrinsics = null, double fps = 30)
    {
        _root = root;
        if (!Directory.Exists(root)) throw new SourceException($"NYU sequence '{root}' does not exist; check the path.");
        var imageDir = Path.Combine(root, "image");
        var depthDir = Path.Combine(root, "depth");
        if (!Directory.Exists(imageDir) || !Directory.Exists(depthDir))
            throw new SourceException($"NYU sequence '{root}' needs image/ and depth/ folders (labels/ optional).");
        var labelDir = Path.Combine(root, "labels");
        var images = ImageFolderSource.ListFiles(imageDir);
        foreach (var img in images)
        {
            var stem = Path.GetFileNameWithoutExtension(img);
            var depth = Path.Combine(depthDir, stem + ".png");
            if (!File.Exists(depth))
                throw new SourceException($"NYU sequence '{root}' has no depth image for '{Path.GetFileName(img)}' (expected {depth}).");
            var labels = Path.Combine(labelDir, stem + ".png");
            _items.Add((img, depth, File.Exists(labels) ? labels : null));
        }
        if (_items.Count == 0) throw new SourceException($"NYU sequence '{root}' has no images in image/.");
        Intrinsics = intrinsics ?? CameraIntrinsics.Nyu;
        NominalFps = fps;
    }

    public CameraIntrinsics Intrinsics { get; }
    public string Description => $"NYU sequence {_root}";
    public bool IsLive => false;
    public double? NominalFps { get; }
    public long? FrameCount => _items.Count;

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long sequence = 0;
        foreach (var (imagePath, depthPath, labelPath) in _items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var image = Cv2.ImRead(imagePath, ImreadModes.Color);
            if (image.Empty())
            {
                image.Dispose();
                throw new SourceException($"NYU image '{imagePath}' is corrupt; restore or remove it.");
            }
            var depth = DepthImage.LoadPng16(depthPath, DepthUnitsPerMetre);
            Mat? labels = null;
            if (labelPath is not null)
            {
                labels = Cv2.ImRead(labelPath, ImreadModes.Unchanged);
                if (labels.Empty() || labels.Type() != MatType.CV_8UC1)
                {
                    labels.Dispose();
                    throw new SourceException($"NYU label image '{labelPath}' must be an 8-bit single-channel PNG of class indices.");
                }
            }
            yield return new Frame(sequence++, Stopwatch.GetTimestamp(), image)
            {
                Depth = depth,
                Labels = labels,
                Intrinsics = Intrinsics.ScaledTo(image.Width, image.Height),
                NominalFps = NominalFps,
            };
            if (sequence % 8 == 0) await Task.Yield();
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
