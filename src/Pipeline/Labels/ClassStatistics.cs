using OpenCvSharp;

namespace RealtimeMtl.Pipeline.Labels;

/// <summary>
/// Pixels per class in a label image, and each class's share. The one rule for the ignore label (and any id beyond
/// the model's classes): such pixels are not counted and not part of the total the shares are taken of. Reuses its
/// buffers, so counting a frame allocates nothing; one caller at a time.
/// </summary>
public sealed class ClassStatistics(int classes)
{
    private readonly long[] _counts = new long[256];

    public int Classes { get; } = classes;

    /// <summary>Labelled pixels of the last count (ignored pixels and unknown ids excluded).</summary>
    public long Valid { get; private set; }

    public long Count(int c) => _counts[c];

    /// <summary>Share of the labelled pixels; 0 when none were labelled.</summary>
    public double Share(int c) => Valid == 0 ? 0 : (double)_counts[c] / Valid;

    public void Add(Mat labels)
    {
        if (labels.Empty()) { Array.Clear(_counts); Valid = 0; return; }
        if (labels.Type() != MatType.CV_8UC1 || !labels.IsContinuous()) throw new ArgumentException("labels must be a continuous CV_8UC1 image",
            nameof(labels));
        unsafe { Add(new ReadOnlySpan<byte>((void*)labels.Data, labels.Rows * labels.Cols)); }
    }

    public void Add(ReadOnlySpan<byte> labels)
    {
        Array.Clear(_counts);
        foreach (var l in labels) _counts[l]++;
        long valid = 0;
        for (var c = 0; c < Classes && c < LabelSet.Ignore; c++) valid += _counts[c];
        Valid = valid;
    }

    /// <summary>Each class's share into <paramref name="shares"/> (one per class).</summary>
    public void Shares(Span<double> shares)
    {
        for (var c = 0; c < shares.Length; c++) shares[c] = c < Classes ? Share(c) : 0;
    }
}
