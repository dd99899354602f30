namespace RealtimeMtl.Capture.Sources;

/// <summary>A folder of images, or a glob such as <c>shots/*.jpg</c>, in natural order.</summary>
public sealed class ImageFolderSource : IFrameSource
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"];
    private readonly IReadOnlyList<string> _files;
    private readonly IEventLog _events;
    private readonly double? _fps;

    public ImageFolderSource(string pathOrGlob, double? fps = null, IEventLog? events = null)
    {
        _events = events ?? TextEventLog.StandardError;
        _fps = fps;
        Spec = pathOrGlob;
        _files = ListFiles(pathOrGlob);
        if (_files.Count == 0)
            throw new SourceException($"image folder '{pathOrGlob}' holds no images ({string.Join(", ", Extensions)}); point at a folder or glob " +
                $"with images in it.");
    }

    public string Spec { get; }
    public IReadOnlyList<string> Files => _files;
    public string Description => $"images {Spec}";
    public bool IsLive => false;
    public double? NominalFps => _fps;
    public long? FrameCount => _files.Count;

    public static IReadOnlyList<string> ListFiles(string pathOrGlob)
    {
        string dir, pattern;
        if (Directory.Exists(pathOrGlob)) { dir = pathOrGlob; pattern = "*"; }
        else if (pathOrGlob.IndexOfAny(['*', '?']) >= 0)
        {
            dir = Path.GetDirectoryName(pathOrGlob) is { Length: > 0 } d ? d : ".";
            pattern = Path.GetFileName(pathOrGlob);
            if (!Directory.Exists(dir)) throw new SourceException($"image folder '{dir}' does not exist; check the path.");
        }
        else throw new SourceException($"image folder '{pathOrGlob}' does not exist; check the path.");
        return Directory.EnumerateFiles(dir, pattern)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .OrderBy(f => Path.GetFileName(f), NaturalStringComparer.Instance)
            .ToList();
    }

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long sequence = 0;
        Size? first = null;
        var warnedSize = false;
        foreach (var file in _files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var image = Cv2.ImRead(file, ImreadModes.Color);
            if (image.Empty())
            {
                image.Dispose();
                _events.Warning($"image '{file}' could not be decoded and was skipped.");
                continue;
            }
            first ??= image.Size();
            if (image.Size() != first && !warnedSize)
            {
                warnedSize = true;
                _events.Warning($"images in '{Spec}' have mixed sizes ({first.Value.Width}x{first.Value.Height}, then {image.Width}x{image.Height} " +
                    $"at {Path.GetFileName(file)}); each is processed at its own size.");
            }
            yield return new Frame(sequence++, Stopwatch.GetTimestamp(), image) { NominalFps = _fps, SourceFile = Path.GetFileName(file) };
            if (sequence % 16 == 0) await Task.Yield();
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
