using OpenCvSharp;
using RealtimeMtl.Pipeline.Imaging;

namespace RealtimeMtl.Render.Drawing;

/// <summary>Readable text on any background: a dark outline under white glyphs, sized to the frame.</summary>
public static class Text
{
    /// <summary>
    /// How much bigger than at 240 lines the interface is drawn for a panel <paramref name="height"/> pixels high:
    /// text, legend and colour bar keep the same share of the frame from 320x240 to 1280x720 and beyond.
    /// </summary>
    public static double UiScale(int height) => Math.Clamp(height / 240.0, 1.0, 4.0);

    public static void Draw(Mat dst, string text, Point at, double scale = 0.4, Scalar? color = null)
    {
        var thick = Math.Max(1, (int)Math.Round(scale / 0.4));
        CvNative.PutText(dst, text, at, HersheyFonts.HersheySimplex, scale, Scalar.Black, thick + 2, LineTypes.AntiAlias);
        CvNative.PutText(dst, text, at, HersheyFonts.HersheySimplex, scale, color ?? Scalar.White, thick, LineTypes.AntiAlias);
    }

    /// <summary>Darkens <paramref name="area"/> (clipped to the image): a translucent box that text stands out on.</summary>
    public static unsafe void Shade(Mat dst, Rect area)
    {
        area = area.Intersect(new Rect(0, 0, dst.Width, dst.Height));
        if (area.Width <= 0 || area.Height <= 0) return;
        if (dst.Type() != MatType.CV_8UC3) throw new ArgumentException("Shade draws on BGR images", nameof(dst));
        for (var y = area.Top; y < area.Bottom; y++)
        {
            var row = (byte*)dst.Ptr(y) + area.X * 3;
            for (var i = 0; i < area.Width * 3; i++) row[i] = (byte)((row[i] * 115 + 128) >> 8); // x 0.45
        }
    }

    /// <summary>A block of lines on a darkened panel.</summary>
    public static void Panel(Mat dst, IReadOnlyList<string> lines, Point at, double scale = 0.38)
    {
        if (lines.Count == 0) return;
        var lineH = (int)(22 * scale / 0.5);
        var width = 0;
        for (var i = 0; i < lines.Count; i++) width = Math.Max(width, Cv2.GetTextSize(lines[i], HersheyFonts.HersheySimplex, scale, 1, out _).Width);
        width += 8;
        var rect = new Rect(at.X, at.Y, Math.Min(width, dst.Width - at.X), Math.Min(lineH * lines.Count + 6, dst.Height - at.Y));
        if (rect.Width <= 0 || rect.Height <= 0) return;
        Shade(dst, rect);
        for (var i = 0; i < lines.Count; i++) Draw(dst, lines[i], new Point(at.X + 4, at.Y + lineH * (i + 1)), scale);
    }
}
