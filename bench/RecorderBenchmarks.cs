using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Sinks.Recording;

namespace RealtimeMtl.Bench;

/// <summary>
/// The record stage per 960x240 frame (the side layout of a 320x240 source), as the pipeline's sink task sees it:
/// H.264 through the ffmpeg program (a pipe write; encoding runs in ffmpeg's own process) against OpenCV's mp4v
/// writer (encoding on the calling thread).
/// </summary>
[MemoryDiagnoser]
public class RecorderBenchmarks
{
    private FramePacket _packet = null!;
    private VideoRecorderSink _sink = null!;
    private string _path = "";

    [Params("h264", "mp4v")]
    public string Codec { get; set; } = "h264";

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"rtmtl-bench-rec-{Codec}-{Environment.ProcessId}.mp4");
        _packet = new FramePacket(new Frame(0, 0, new Mat(240, 320, MatType.CV_8UC3, Scalar.All(90))));
        // A real scene three times side by side, like the side layout (noise would be an unfair worst case for H.264).
        using var scene = new Capture.Synthetic.SyntheticSource(new Capture.Synthetic.SyntheticOptions { Frames = 1 }).RenderFrame(0);
        var rendered = new Mat();
        Cv2.HConcat([scene.Image, scene.Image, scene.Image], rendered);
        _packet.Rendered = rendered;
        _sink = new VideoRecorderSink(new RecorderOptions { Path = _path, Fps = 30, Codec = RecorderOptions.ParseCodec(Codec) });
    }

    [Benchmark] public void RecordOneFrame() => _sink.WriteAsync(_packet, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _sink.CompleteAsync().AsTask().GetAwaiter().GetResult();
        _sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _packet.Release();
        File.Delete(_path);
    }
}
