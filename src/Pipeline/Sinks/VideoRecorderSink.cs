using System.Diagnostics;
using OpenCvSharp;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Sinks;

/// <summary>
/// Records the annotated stream. .mp4 uses mp4v, .avi MJPG (the writers OpenCV's FFmpeg build offers here).
/// Frame rate: the file's rate for file sources; for live sources it is measured over the first second of frames,
/// which are held until then. Frames of another size (a stream back at a new resolution) are scaled to the
/// recording size. Completing releases the writer, which finalises the container (playable file).
/// </summary>
public sealed class VideoRecorderSink : IFrameSink
{
    private readonly string _path;
    private readonly double? _fps;
    private readonly List<(Mat Image, long Ticks)> _held = [];
    private VideoWriter? _writer;
    private Size _size;

    public VideoRecorderSink(string path, double? fps)
    {
        _path = path;
        _fps = fps is > 0 and < 1000 ? fps : null;
        CheckWritable(path);
    }

    public string Name => "record";
    public bool Lossless => true;
    public long FramesWritten { get; private set; }
    public double? RecordedFps { get; private set; }
    public string Path => _path;

    /// <summary>Fails early, before any frame is processed, when the file cannot be created.</summary>
    public static void CheckWritable(string path)
    {
        var ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".mp4" or ".avi" or ".mkv"))
            throw new ArgumentException($"--record '{path}': use a .mp4 (mp4v) or .avi (MJPG) file name.");
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new ArgumentException($"--record '{path}': folder '{dir}' does not exist; create it or record elsewhere.");
        try
        {
            using (File.Open(path, FileMode.Create, FileAccess.Write)) { }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new ArgumentException($"--record '{path}' cannot be written ({e.Message}); choose a writable path.");
        }
    }

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        var image = packet.Rendered ?? throw new InvalidOperationException("frame was not rendered");
        if (_writer is null)
        {
            if (_fps is null)
            {
                _held.Add((image.Clone(), packet.CaptureTicks));
                var span = Stopwatch.GetElapsedTime(_held[0].Ticks, packet.CaptureTicks).TotalSeconds;
                if (_held.Count < 30 && span < 1.0) return ValueTask.CompletedTask;
                Open(image.Size(), Measured());
                FlushHeld();
                return ValueTask.CompletedTask;
            }
            Open(image.Size(), _fps.Value);
        }
        Write(image);
        return ValueTask.CompletedTask;
    }

    private double Measured()
    {
        if (_held.Count < 2) return 30;
        var seconds = Stopwatch.GetElapsedTime(_held[0].Ticks, _held[^1].Ticks).TotalSeconds;
        return seconds > 0 ? Math.Clamp((_held.Count - 1) / seconds, 1, 240) : 30;
    }

    private void Open(Size size, double fps)
    {
        var fourcc = System.IO.Path.GetExtension(_path).ToLowerInvariant() == ".avi" ? FourCC.MJPG : VideoWriter.FourCC('m', 'p', '4', 'v');
        _writer = new VideoWriter(_path, fourcc, fps, size);
        if (!_writer.IsOpened())
        {
            _writer.Dispose();
            _writer = null;
            throw new IOException($"could not open '{_path}' for recording (codec or path); try a .avi file");
        }
        _size = size;
        RecordedFps = fps;
    }

    private void Write(Mat image)
    {
        if (image.Size() == _size) _writer!.Write(image);
        else
        {
            using var scaled = new Mat();
            Cv2.Resize(image, scaled, _size);
            _writer!.Write(scaled);
        }
        FramesWritten++;
    }

    private void FlushHeld()
    {
        foreach (var (img, _) in _held)
        {
            Write(img);
            img.Dispose();
        }
        _held.Clear();
    }

    public ValueTask CompleteAsync()
    {
        if (_writer is null && _held.Count > 0)
        {
            Open(_held[0].Image.Size(), Measured());
            FlushHeld();
        }
        _writer?.Release();
        _writer?.Dispose();
        _writer = null;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var (img, _) in _held) img.Dispose();
        _held.Clear();
        _writer?.Dispose();
        return ValueTask.CompletedTask;
    }
}
