using OpenCvSharp;

namespace RealtimeMtl.Sinks.Recording;

/// <summary>OpenCV's writer: mp4v in .mp4, MJPG in .avi (what its bundled FFmpeg offers). The fallback without the ffmpeg program.</summary>
internal sealed class OpenCvVideoEncoder : IVideoEncoder
{
    private readonly VideoWriter _writer;
    private readonly string _path;

    public OpenCvVideoEncoder(string path, RecordCodec codec, double fps, Size size)
    {
        _path = path;
        var fourcc = codec == RecordCodec.Mjpg ? FourCC.MJPG : VideoWriter.FourCC('m', 'p', '4', 'v');
        _writer = new VideoWriter(path, fourcc, fps, size);
        if (!_writer.IsOpened())
        {
            _writer.Dispose();
            throw new IOException($"OpenCV could not open '{path}' for recording ({codec}); try a .avi file");
        }
        Description = codec == RecordCodec.Mjpg ? "MJPG (OpenCV)" : "mp4v (OpenCV)";
    }

    public string Description { get; }

    public void Write(Mat bgr) => _writer.Write(bgr);

    public void Finish()
    {
        _writer.Release();
        if (!File.Exists(_path) || new FileInfo(_path).Length == 0) throw new
            IOException($"OpenCV wrote nothing to '{_path}' (disk full or not writable)");
    }

    public void Dispose() => _writer.Dispose();
}
