using OpenCvSharp;

namespace RealtimeMtl.Render.Drawing;

/// <summary>Readable text on any background: a dark outline under white glyphs.</summary>
public static class Text
{
    public static void Draw(Mat dst, string text, Point at, double scale = 0.4, Scalar? color = null)
    {
        Cv2.PutText(dst, text, at, HersheyFonts.HersheySimplex, scale, Scalar.Black, 3, LineTypes.AntiAlias);
        Cv2.PutText(dst, text, at, HersheyFonts.HersheySimplex, scale, color ?? Scalar.White, 1, LineTypes.AntiAlias);
    }

    /// <summary>A block of lines on a darkened panel.</summary>
    public static void Panel(Mat dst, IReadOnlyList<string> lines, Point at, double scale = 0.38)
    {
        if (lines.Count == 0) return;
        var lineH = (int)(22 * scale / 0.5);
        var width = lines.Max(l => Cv2.GetTextSize(l, HersheyFonts.HersheySimplex, scale, 1, out _).Width) + 8;
        var rect = new Rect(at.X, at.Y, Math.Min(width, dst.Width - at.X), Math.Min(lineH * lines.Count + 6, dst.Height - at.Y));
        if (rect.Width <= 0 || rect.Height <= 0) return;
        using (var roi = new Mat(dst, rect)) roi.ConvertTo(roi, -1, 0.45, 0);
        for (var i = 0; i < lines.Count; i++) Draw(dst, lines[i], new Point(at.X + 4, at.Y + lineH * (i + 1)), scale);
    }
}
