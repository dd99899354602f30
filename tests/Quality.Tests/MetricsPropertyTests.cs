using CsCheck;
using RealtimeMtl.Quality;

namespace RealtimeMtl.Quality.Tests;

/// <summary>Property-based checks of the metrics the engine and the trainer report.</summary>
public class MetricsPropertyTests
{
    private static readonly Gen<(byte[] Truth, byte[] Pred)> LabelPairs =
        Gen.Int[1, 300].SelectMany(n => Gen.Select(Gen.Byte[0, 4].Array[n], Gen.Byte[0, 4].Array[n]));

    private static readonly Gen<(float[] Truth, float[] Pred)> DepthPairs =
        Gen.Int[1, 300].SelectMany(n => Gen.Select(Gen.Float[0.05f, 20f].Array[n], Gen.Float[0.05f, 20f].Array[n]));

    private static T[] Permute<T>(T[] a, int[] order) => order.Select(i => a[i]).ToArray();

    [Fact]
    public void Miou_lies_in_0_1_and_is_invariant_to_pixel_permutation()
    {
        LabelPairs.SelectMany(p => Gen.Shuffle(Enumerable.Range(0, p.Truth.Length).ToArray()).Select(o => (p.Truth, p.Pred, o))).Sample(t =>
        {
            var a = new SegmentationMetrics(5); a.Add(t.Truth, t.Pred);
            var b = new SegmentationMetrics(5); b.Add(Permute(t.Truth, t.o), Permute(t.Pred, t.o));
            return a.MeanIoU is >= 0 and <= 1 && a.PixelAccuracy is >= 0 and <= 1 && Math.Abs(a.MeanIoU - b.MeanIoU) < 1e-12;
        });
    }

    [Fact]
    public void Miou_is_one_exactly_when_prediction_equals_truth()
    {
        LabelPairs.Sample(p =>
        {
            var same = new SegmentationMetrics(5); same.Add(p.Truth, p.Truth);
            var other = new SegmentationMetrics(5); other.Add(p.Truth, p.Pred);
            return same.MeanIoU == 1.0 && (p.Truth.SequenceEqual(p.Pred) ? other.MeanIoU == 1.0 : other.MeanIoU < 1.0);
        });
    }

    [Fact]
    public void Depth_errors_are_non_negative_permutation_invariant_and_zero_only_for_identical_inputs()
    {
        DepthPairs.SelectMany(p => Gen.Shuffle(Enumerable.Range(0, p.Truth.Length).ToArray()).Select(o => (p.Truth, p.Pred, o))).Sample(t =>
        {
            var a = new DepthMetrics(); a.Add(t.Truth, t.Pred);
            var b = new DepthMetrics(); b.Add(Permute(t.Truth, t.o), Permute(t.Pred, t.o));
            var self = new DepthMetrics(); self.Add(t.Truth, t.Truth);
            var identical = t.Truth.SequenceEqual(t.Pred);
            return a.Rmse >= 0 && a.LogRmse >= 0 && a.AbsRel >= 0 && a.Delta1 is >= 0 and <= 1
                && Math.Abs(a.Rmse - b.Rmse) < 1e-9 && self.Rmse == 0 && self.Delta1 == 1
                && (identical ? a.Rmse == 0 : a.Rmse > 0);
        });
    }
}
