using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Capture.Tests;

public class CameraSourceTests
{
    [Fact]
    public void A_camera_index_with_no_device_is_one_clear_error()
    {
        var index = Enumerable.Range(40, 20).First(i => !File.Exists($"/dev/video{i}"));
        var e = Assert.Throws<SourceException>(() => SourceFactory.Open(index.ToString()));
        Assert.Contains($"camera {index}", e.Message);
        Assert.Contains("plug", e.Message);
        Assert.Contains("--source synthetic", e.Message); // a way to try the engine without a camera
    }

    [Fact]
    public void A_missing_device_path_is_one_clear_error()
    {
        var e = Assert.Throws<SourceException>(() => SourceFactory.Open("/dev/video99"));
        Assert.Contains("/dev/video99", e.Message);
    }

    [Fact]
    public void Natural_order_compares_digit_runs_by_value()
    {
        var names = new[] { "f10.png", "f2.png", "f1.png", "f02b.png", "g1.png" }.OrderBy(x => x, NaturalStringComparer.Instance).ToArray();
        Assert.Equal(["f1.png", "f2.png", "f02b.png", "f10.png", "g1.png"], names);
    }
}
