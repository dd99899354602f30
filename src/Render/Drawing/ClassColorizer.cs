using OpenCvSharp;
using RealtimeMtl.Pipeline.Imaging;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Render.Drawing;

/// <summary>Label map to palette colours in one call: a 256-entry colour table through ApplyColorMap. Ignore (255) is black.</summary>
public sealed class ClassColorizer : IDisposable
{
    private readonly Mat _table;

    public ClassColorizer(LabelSet labels)
    {
        Labels = labels;
        _table = new Mat(256, 1, MatType.CV_8UC3, Scalar.All(0));
        for (var i = 0; i < labels.Count; i++)
        {
            var (b, g, r) = labels.Palette[i];
            _table.Set(i, 0, new Vec3b(b, g, r));
        }
    }

    public LabelSet Labels { get; }

    public void Colorize(Mat labels, Mat bgr) => CvNative.ApplyColorMap(labels, bgr, _table);

    /// <summary>image * (1 - alpha) + colour * alpha, into <paramref name="dst"/>.</summary>
    public void Overlay(Mat image, Mat labels, double alpha, Mat scratch, Mat dst)
    {
        Colorize(labels, scratch);
        CvNative.AddWeighted(image, 1 - alpha, scratch, alpha, 0, dst);
    }

    private static readonly Mat Kernel3x3 = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(3, 3));

    /// <summary>Paints class boundaries (pixels whose 3x3 neighbourhood holds another class) white.</summary>
    public static void DrawBoundaries(Mat labels, Mat dst, Mat scratch)
    {
        CvNative.MorphologyEx(labels, scratch, MorphTypes.Gradient, Kernel3x3);
        CvNative.SetTo(dst, Scalar.White, scratch);
    }

    private ClassStatistics? _stats;

    /// <summary>Share of labelled pixels per class (<see cref="ClassStatistics"/>'s rule for the ignore label).</summary>
    public double[] ClassShares(Mat labels)
    {
        var shares = new double[Labels.Count];
        ClassShares(labels, shares);
        return shares;
    }

    /// <summary>Shares into <paramref name="shares"/> (one per class), without allocating; one caller at a time.</summary>
    public void ClassShares(Mat labels, Span<double> shares)
    {
        _stats ??= new ClassStatistics(Labels.Count);
        _stats.Add(labels);
        _stats.Shares(shares);
    }

    public void Dispose() => _table.Dispose();
}
