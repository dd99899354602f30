using OpenCvSharp;
using RealtimeMtl.Pipeline.Frames;
using Xunit;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary><see cref="FramePool"/>: frames come back when disposed and are handed out again with new pixels, never
/// while still held, never twice, and never with Mats that another frame now owns.</summary>
public class FramePoolTests
{
    private static Frame Source(int w, int h, byte value, bool withTruth = true) => new(7, 1, new Mat(h, w, MatType.CV_8UC3, Scalar.All(value)))
    {
        Depth = withTruth ? new Mat(h, w, MatType.CV_32FC1, Scalar.All(value / 10.0)) : null,
        Labels = withTruth ? new Mat(h, w, MatType.CV_8UC1, Scalar.All(value % 5)) : null,
        NominalFps = 25, SourceFile = $"f{value}.png", Intrinsics = CameraIntrinsics.Nyu.ScaledTo(w, h),
    };

    [Fact]
    public void A_disposed_frame_is_handed_out_again_with_the_new_pixels_and_description_and_no_allocation()
    {
        using var pool = new FramePool();
        using var a = Source(64, 48, 10);
        using var b = Source(64, 48, 20, withTruth: true);
        var first = pool.CopyOf(a, 0, 100);
        var image = first.Image;
        first.Dispose();
        var second = pool.CopyOf(b, 1, 200);
        Assert.Same(first, second);
        Assert.Same(image, second.Image);
        Assert.Equal((1L, 200L), (second.Sequence, second.TimestampTicks));
        Assert.Equal(20, second.Image.At<Vec3b>(5, 5).Item0);
        Assert.Equal(2f, second.Depth!.At<float>(5, 5), 3);
        Assert.Equal(0, second.Labels!.At<byte>(5, 5));
        Assert.Equal(("f20.png", 25.0), (second.SourceFile, second.NominalFps!.Value));
        second.Dispose();

        for (var i = 0; i < 10; i++) pool.CopyOf(i % 2 == 0 ? a : b, i, i).Dispose();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) pool.CopyOf(i % 2 == 0 ? a : b, i, i).Dispose();
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 100 * 16, "a pooled copy allocates nothing managed");
    }

    [Fact]
    public void A_frame_still_held_is_not_handed_out_and_one_disposed_twice_comes_back_once()
    {
        using var pool = new FramePool();
        using var a = Source(32, 24, 10);
        using var b = Source(32, 24, 30);
        var held = pool.CopyOf(a, 0, 0);
        var other = pool.CopyOf(b, 1, 1);
        Assert.NotSame(held, other);
        Assert.Equal(10, held.Image.At<Vec3b>(3, 3).Item0);

        other.Dispose();
        other.Dispose();
        var x = pool.CopyOf(a, 2, 2);
        var y = pool.CopyOf(a, 3, 3);
        Assert.NotSame(x, y);
        foreach (var f in new[] { held, x, y }) f.Dispose();
    }

    [Fact]
    public void Another_shape_gets_new_mats_and_a_frame_whose_mats_moved_on_does_not_come_back()
    {
        using var pool = new FramePool();
        using var small = Source(32, 24, 10);
        using var large = Source(64, 48, 20, withTruth: false);
        pool.CopyOf(small, 0, 0).Dispose();
        var f = pool.CopyOf(large, 1, 1);
        Assert.Equal((64, 48), (f.Width, f.Height));
        Assert.Null(f.Depth);

        // After With() the old frame has left the pool (what it keeps may belong to the new one): disposed, it frees its
        // own Mats and is not handed out again.
        var moved = f.With(new Mat(48, 64, MatType.CV_8UC3, Scalar.All(1)), null);
        f.Dispose();
        Assert.True(f.Image.IsDisposed);
        var next = pool.CopyOf(large, 2, 2);
        Assert.NotSame(f, next);
        Assert.False(next.Image.IsDisposed);
        moved.Dispose();
        next.Dispose();
    }

    [Fact]
    public void Frames_that_come_back_after_the_pool_is_disposed_are_freed()
    {
        var pool = new FramePool();
        using var a = Source(32, 24, 10);
        var out1 = pool.CopyOf(a, 0, 0);
        var waiting = pool.CopyOf(a, 1, 1);
        waiting.Dispose();
        pool.Dispose();
        Assert.True(waiting.Image.IsDisposed);
        out1.Dispose();
        Assert.True(out1.Image.IsDisposed);
    }
}
