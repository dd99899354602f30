namespace RealtimeMtl.Quality;

/// <summary>
/// Confusion matrix over a label set, accumulated pixel by pixel. mIoU is the mean of per-class IoU over the
/// classes present (in the ground truth or the prediction), pixels with the ignore label excluded, as in the
/// NYUD-v2 literature. Pixel accuracy is correct / labelled pixels.
/// </summary>
public sealed class SegmentationMetrics
{
    private readonly long[] _confusion;

    public SegmentationMetrics(int classes, byte ignore = 255)
    {
        Classes = classes;
        Ignore = ignore;
        _confusion = new long[classes * classes];
    }

    public int Classes { get; }
    public byte Ignore { get; }
    public long Pixels { get; private set; }

    public void Add(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted)
    {
        if (truth.Length != predicted.Length) throw new ArgumentException("truth and prediction differ in size");
        var k = Classes;
        for (var i = 0; i < truth.Length; i++)
        {
            var t = truth[i];
            if (t == Ignore || t >= k) continue;
            var p = predicted[i];
            if (p >= k) p = 0; // out-of-range prediction counts as wrong for class t
            _confusion[t * k + p]++;
            Pixels++;
        }
    }

    public void Merge(SegmentationMetrics other)
    {
        for (var i = 0; i < _confusion.Length; i++) _confusion[i] += other._confusion[i];
        Pixels += other.Pixels;
    }

    public long this[int truth, int predicted] => _confusion[truth * Classes + predicted];

    /// <summary>IoU per class, NaN for classes absent from both truth and prediction.</summary>
    public double[] ClassIoU()
    {
        var iou = new double[Classes];
        for (var c = 0; c < Classes; c++) iou[c] = IoU(c);
        return iou;
    }

    /// <summary>The mean of <see cref="ClassIoU"/> over the classes present, without allocating (a live HUD reads it).</summary>
    public double MeanIoU
    {
        get
        {
            double sum = 0;
            var present = 0;
            for (var c = 0; c < Classes; c++)
                if (IoU(c) is var v && !double.IsNaN(v)) { sum += v; present++; }
            return present == 0 ? double.NaN : sum / present;
        }
    }

    private double IoU(int c)
    {
        var k = Classes;
        long tp = _confusion[c * k + c], fn = 0, fp = 0;
        for (var j = 0; j < k; j++)
        {
            if (j == c) continue;
            fn += _confusion[c * k + j];
            fp += _confusion[j * k + c];
        }
        var union = tp + fn + fp;
        return union == 0 ? double.NaN : (double)tp / union;
    }

    public double PixelAccuracy
    {
        get
        {
            long correct = 0;
            for (var c = 0; c < Classes; c++) correct += _confusion[c * Classes + c];
            return Pixels == 0 ? double.NaN : (double)correct / Pixels;
        }
    }
}
