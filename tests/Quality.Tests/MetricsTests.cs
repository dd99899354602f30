using RealtimeMtl.Quality;

namespace RealtimeMtl.Quality.Tests;

public class MetricsTests
{
    [Fact]
    public void Mean_iou_by_hand()
    {
        // truth:     0 0 1 1 2 255
        // predicted: 0 1 1 1 0 2
        var m = new SegmentationMetrics(4);
        m.Add([0, 0, 1, 1, 2, 255], [0, 1, 1, 1, 0, 2]);
        // class 0: tp 1, fn 1, fp 1 -> 1/3; class 1: tp 2, fp 1 -> 2/3; class 2: tp 0, fn 1 -> 0; class 3 absent -> excluded
        Assert.Equal((1 / 3.0 + 2 / 3.0 + 0) / 3, m.MeanIoU, 10);
        Assert.Equal(3 / 5.0, m.PixelAccuracy, 10);
        Assert.Equal(5, m.Pixels);
        Assert.True(double.IsNaN(m.ClassIoU()[3]));
    }

    [Fact]
    public void Perfect_prediction_scores_one_and_merging_equals_adding_everything_at_once()
    {
        var a = new SegmentationMetrics(3); a.Add([0, 1, 2], [0, 1, 2]);
        Assert.Equal(1.0, a.MeanIoU);
        var b = new SegmentationMetrics(3); b.Add([2, 2], [1, 2]);
        var all = new SegmentationMetrics(3); all.Add([0, 1, 2, 2, 2], [0, 1, 2, 1, 2]);
        a.Merge(b);
        Assert.Equal(all.MeanIoU, a.MeanIoU, 12);
    }

    [Fact]
    public void Depth_errors_by_hand_over_valid_pixels_only()
    {
        var d = new DepthMetrics();
        // truth 1, 2, 4 valid; 0 and NaN invalid.  predictions 1.5, 2, 2
        d.Add([1f, 2f, 4f, 0f, float.NaN], [1.5f, 2f, 2f, 9f, 9f]);
        Assert.Equal(3, d.Pixels);
        Assert.Equal(Math.Sqrt((0.25 + 0 + 4) / 3), d.Rmse, 10);
        Assert.Equal(Math.Sqrt((Math.Pow(Math.Log(1.5), 2) + 0 + Math.Pow(Math.Log(0.5), 2)) / 3), d.LogRmse, 10);
        Assert.Equal((0.5 + 0 + 0.5) / 3, d.AbsRel, 10);
        Assert.Equal(1 / 3.0, d.Delta1, 10); // only the exact pixel is within 1.25
    }

    [Fact]
    public void No_valid_pixels_gives_nan_not_zero()
    {
        var d = new DepthMetrics();
        d.Add([0f, float.NaN], [1f, 1f]);
        Assert.True(double.IsNaN(d.Rmse));
        Assert.True(double.IsNaN(new SegmentationMetrics(3).MeanIoU));
    }
}
