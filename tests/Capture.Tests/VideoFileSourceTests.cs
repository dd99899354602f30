using OpenCvSharp;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Capture.Tests;

public class VideoFileSourceTests
{
    [Fact]
    public async Task A_written_video_reads_back_with_the_same_frame_count_and_rate()
    {
        using var dir = new TempDir();
        var path = dir.File("clip.avi");
        using (var writer = new VideoWriter(path, FourCC.MJPG, 12.5, new Size(96, 64)))
        {
            Assert.True(writer.IsOpened());
            for (var i = 0; i < 25; i++)
            {
                using var m = new Mat(64, 96, MatType.CV_8UC3, new Scalar(i * 10, 255 - i * 10, 128));
                writer.Write(m);
            }
        }
        await using var source = new VideoFileSource(path);
        Assert.Equal(12.5, source.NominalFps!.Value, 2);
        var frames = await Tools.ReadAll(source);
        Assert.Equal(25, frames.Count);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), frames.Select(f => f.Sequence));
        Assert.All(frames, f => Assert.Equal(new Size(96, 64), f.Image.Size()));
        // Content survives: the blue channel ramps by 10 per frame (MJPG is lossy, so within a few levels).
        Assert.InRange(frames[20].Image.At<Vec3b>(32, 48).Item0, 190, 210);
        frames.ForEach(f => f.Dispose());
    }

    [Fact]
    public async Task An_ffmpeg_made_mp4_reads_every_frame()
    {
        var ffmpeg = Tools.Require("ffmpeg", "ffmpeg");
        using var dir = new TempDir();
        var path = dir.File("test.mp4");
        var (code, output) = Tools.Run(ffmpeg, $"-y -v error -f lavfi -i testsrc=size=128x96:rate=20 -frames:v 40 -c:v mpeg4 {path}");
        Assert.True(code == 0, output);
        await using var source = new VideoFileSource(path);
        Assert.Equal(20, source.NominalFps!.Value, 1);
        var frames = await Tools.ReadAll(source);
        Assert.Equal(40, frames.Count);
        frames.ForEach(f => f.Dispose());
    }

    [Fact]
    public async Task Realtime_pacing_follows_the_files_frame_rate()
    {
        using var dir = new TempDir();
        var path = dir.File("paced.avi");
        using (var writer = new VideoWriter(path, FourCC.MJPG, 20, new Size(32, 32)))
            for (var i = 0; i < 10; i++) { using var m = new Mat(32, 32, MatType.CV_8UC3, Scalar.All(i)); writer.Write(m); }
        await using var source = new VideoFileSource(path, realtime: true);
        var frames = await Tools.ReadAll(source);
        // Frame 9 is due 9/20 s after frame 0: its capture timestamp cannot be earlier.
        var span = System.Diagnostics.Stopwatch.GetElapsedTime(frames[0].TimestampTicks, frames[^1].TimestampTicks).TotalSeconds;
        Assert.True(span >= 0.44, $"paced span {span:0.000} s");
        frames.ForEach(f => f.Dispose());
    }

    [Fact]
    public void A_missing_file_is_one_clear_error_naming_it()
    {
        var e = Assert.Throws<SourceException>(() => SourceFactory.Open("/nonexistent/clip.mp4"));
        Assert.Contains("/nonexistent/clip.mp4", e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Garbage_bytes_named_mp4_are_rejected_clearly()
    {
        using var dir = new TempDir();
        var path = dir.File("garbage.mp4");
        File.WriteAllBytes(path, Enumerable.Range(0, 50000).Select(i => (byte)(i * 7919 % 251)).ToArray());
        var e = Assert.Throws<SourceException>(()
            => new VideoFileSource(path).ReadAllAsync().GetAsyncEnumerator().MoveNextAsync().AsTask().GetAwaiter().GetResult());
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public async Task A_truncated_video_keeps_every_decodable_frame()
    {
        var ffmpeg = Tools.Require("ffmpeg", "ffmpeg");
        using var dir = new TempDir();
        var full = dir.File("full.ts");
        var (code, output) = Tools.Run(ffmpeg, $"-y -v error -f lavfi -i testsrc=size=128x96:rate=20 -frames:v 60 -c:v mpeg4 -g 10 {full}");
        Assert.True(code == 0, output);
        var bytes = File.ReadAllBytes(full);
        var cut = dir.File("cut.ts");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        await using var source = new VideoFileSource(cut, events: new CollectingEvents());
        var frames = await Tools.ReadAll(source);
        // About half the frames survive the cut; every one of them is delivered, in order, without an error.
        Assert.InRange(frames.Count, 18, 42);
        Assert.Equal(Enumerable.Range(0, frames.Count).Select(i => (long)i), frames.Select(f => f.Sequence));
        frames.ForEach(f => f.Dispose());
    }
}
