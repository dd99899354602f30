using System.Diagnostics;
using System.Text;
using OpenCvSharp;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Sinks;
using RealtimeMtl.Sinks.Recording;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Sinks.Tests;

/// <summary>The sinks alone, fed packets the way the pipeline hands them over.</summary>
public class SinkTests
{
    private static FramePacket Packet(long sequence, long ticks, int w = 64, int h = 48, float depth = 2f)
    {
        var p = new FramePacket(new Frame(sequence, ticks, new Mat(h, w, MatType.CV_8UC3, new Scalar(10, 20, 30)))
        {
            Intrinsics = new CameraIntrinsics(50, 50, 31.5, 23.5, w, h),
        });
        p.Labels.Create(h, w, MatType.CV_8UC1); p.Labels.SetTo(Scalar.All(3));
        p.Depth.Create(h, w, MatType.CV_32FC1); p.Depth.SetTo(Scalar.All(depth));
        p.RenderTarget.Create(h, w, MatType.CV_8UC3); p.RenderTarget.SetTo(new Scalar(0, 0, 200));
        p.Rendered = p.RenderTarget;
        return p;
    }

    [Fact]
    public async Task A_live_recording_fills_a_stall_with_repeated_frames_so_the_file_keeps_time()
    {
        // The suite's install step provides ffmpeg (H.264); without it the recorder falls back to OpenCV's mp4v.
        var dir = Directory.CreateTempSubdirectory("rtmtl-sink-");
        try
        {
            var path = Path.Combine(dir.FullName, "live.mp4");
            var recorder = new VideoRecorderSink(new RecorderOptions { Path = path, Fps = 10, Live = true });
            var t0 = Stopwatch.GetTimestamp();
            long At(double seconds) => t0 + (long)(seconds * Stopwatch.Frequency);
            // Frames at 0.0-0.4 s, a stall, frames again at 1.0-1.2 s: slots 0-12 at 10 FPS.
            foreach (var (i, s) in new[] { (0, 0.0), (1, 0.1), (2, 0.2), (3, 0.3), (4, 0.4), (5, 1.0), (6, 1.1), (7, 1.2) })
            {
                var p = Packet(i, At(s));
                await recorder.WriteAsync(p, CancellationToken.None);
                p.Release();
            }
            await recorder.CompleteAsync();
            await recorder.DisposeAsync();
            Assert.Equal(8, recorder.FramesWritten);
            Assert.Equal(5, recorder.FramesRepeated);
            Assert.Equal(13, recorder.FramesInFile);
            Assert.Equal(1.2, recorder.CapturedSeconds, 3);
            Assert.True(File.Exists(path), "the finished recording is at its name");
            Assert.False(File.Exists(VideoRecorderSink.TempPath(path)));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task A_live_run_that_ends_in_an_outage_records_until_the_end_by_repeating_the_last_frame()
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-sink-");
        try
        {
            var path = Path.Combine(dir.FullName, "outage.mp4");
            var recorder = new VideoRecorderSink(new RecorderOptions { Path = path, Fps = 10, Live = true });
            var now = Stopwatch.GetTimestamp();
            long Ago(double seconds) => now - (long)(seconds * Stopwatch.Frequency);
            // Six frames 3.0-2.5 s ago, then nothing (the stream went down) until the run ends now.
            for (var i = 0; i < 6; i++)
            {
                var p = Packet(i, Ago(3.0 - 0.1 * i));
                await recorder.WriteAsync(p, CancellationToken.None);
                p.Release();
            }
            await recorder.CompleteAsync();
            await recorder.DisposeAsync();
            Assert.Equal(6, recorder.FramesWritten);
            // 3 s at 10 FPS: the file lasts as long as the run (the tail filled), not 0.6 s.
            Assert.InRange(recorder.FramesInFile, 30, 33);
            Assert.InRange(recorder.CapturedSeconds, 2.95, 3.3);
        }
        finally { dir.Delete(true); }
    }

    [Theory]
    [InlineData(321, 241, 322, 242)]
    [InlineData(1, 1, 2, 2)]
    [InlineData(640, 480, 640, 480)]
    [InlineData(10000, 10000, 4320, 4320)]
    [InlineData(16000, 3000, 8192, 1536)]
    public void H264_sizes_are_even_and_within_level_6_2(int w, int h, int ew, int eh)
    {
        var said = new CollectingEvents();
        var size = VideoRecorderSink.H264Size(new Size(w, h), said);
        Assert.Equal((ew, eh), (size.Width, size.Height));
        Assert.True(size.Width % 2 == 0 && size.Height % 2 == 0);
        Assert.True(size.Width <= VideoRecorderSink.MaxH264Width && size.Height <= VideoRecorderSink.MaxH264Height);
        // Said once, and only when the size changed.
        Assert.Equal(w == ew && h == eh ? 0 : 1, said.Warnings.Count);
        Assert.Empty(said.Infos);
    }

    [Fact]
    public async Task A_point_cloud_back_projects_each_valid_pixel_through_the_frames_camera()
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-sink-");
        try
        {
            var sink = new PointCloudSink(dir.FullName, 1, LabelSet.Nyu13, NullEventLog.Instance);
            var p = Packet(0, 0, depth: 2f);
            p.Depth.Set(0, 0, 0f); // one invalid pixel
            await sink.WriteAsync(p, CancellationToken.None);
            p.Release();
            var bytes = File.ReadAllBytes(Path.Combine(dir.FullName, "000000.ply"));
            var headerEnd = Encoding.ASCII.GetString(bytes).IndexOf("end_header\n", StringComparison.Ordinal) + "end_header\n".Length;
            Assert.Contains("element vertex 3071", Encoding.ASCII.GetString(bytes, 0, headerEnd));
            // Vertex 0 is pixel (1, 0): x = (1 - 31.5) * 2 / 50, y = (0 - 23.5) * 2 / 50, z = 2; BGR (10, 20, 30) -> RGB; label 3.
            var v = bytes.AsSpan(headerEnd);
            Assert.Equal((1 - 31.5f) * 2 / 50, BitConverter.ToSingle(v[0..4]), 5);
            Assert.Equal((0 - 23.5f) * 2 / 50, BitConverter.ToSingle(v[4..8]), 5);
            Assert.Equal(2f, BitConverter.ToSingle(v[8..12]));
            Assert.Equal([30, 20, 10, 3], v[12..16].ToArray());
            Assert.Equal(headerEnd + 3071 * 16, bytes.Length);
        }
        finally { dir.Delete(true); }
    }
}
