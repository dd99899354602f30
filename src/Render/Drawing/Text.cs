using System.Runtime.InteropServices;
using System.Text;
using OpenCvSharp;
using OpenCvSharp.Internal;

namespace RealtimeMtl.Render.Drawing;

/// <summary>Readable text on any background: a dark outline under white glyphs, sized to the frame. Text is drawn from
/// spans of characters, encoded on the stack and handed to OpenCV's putText and getTextSize directly (the entry points
/// of OpenCvSharp's native library, which its own wrappers reach only with a string), so a HUD rebuilt in place allocates
/// nothing.</summary>
public static class Text
{
    private const int Font = (int)HersheyFonts.HersheySimplex;

    /// <summary>The longest text drawn in one call, in characters; longer text is cut.</summary>
    private const int MaxChars = 256;

    /// <summary>
    /// How much bigger than at 240 lines the interface is drawn for a panel <paramref name="height"/> pixels high:
    /// text, legend and colour bar keep the same share of the frame from 320x240 to 1280x720 and beyond.
    /// </summary>
    public static double UiScale(int height) => Math.Clamp(height / 240.0, 1.0, 4.0);

    public static unsafe void Draw(Mat dst, ReadOnlySpan<char> text, Point at, double scale = 0.4, Scalar? color = null)
    {
        var thick = Math.Max(1, (int)Math.Round(scale / 0.4));
        Span<byte> utf8 = stackalloc byte[MaxChars * 3 + 1];
        Encode(text, utf8);
        NativeMethods.HandleException(NativeMethods.core_OutputArray_new_byMat(dst.CvPtr, out var o));
        try
        {
            fixed (byte* p = utf8)
            {
                NativeMethods.HandleException(imgproc_putText(o, p, at, Font, scale, Scalar.Black, thick + 2, (int)LineTypes.AntiAlias, 0));
                NativeMethods.HandleException(imgproc_putText(o, p, at, Font, scale, color ?? Scalar.White, thick, (int)LineTypes.AntiAlias, 0));
            }
        }
        finally
        {
            NativeMethods.core_OutputArray_delete(o);
            GC.KeepAlive(dst);
        }
    }

    /// <summary>The width in pixels of <paramref name="text"/> drawn at <paramref name="scale"/> (thickness 1).</summary>
    public static unsafe int Width(ReadOnlySpan<char> text, double scale)
    {
        Span<byte> utf8 = stackalloc byte[MaxChars * 3 + 1];
        Encode(text, utf8);
        Size size;
        fixed (byte* p = utf8) NativeMethods.HandleException(imgproc_getTextSize(p, Font, scale, 1, out _, out size));
        return size.Width;
    }

    /// <summary>UTF-8, zero-terminated, at most <see cref="MaxChars"/> characters.</summary>
    private static void Encode(ReadOnlySpan<char> text, Span<byte> utf8)
    {
        if (text.Length > MaxChars) text = text[..MaxChars];
        var n = Encoding.UTF8.GetBytes(text, utf8);
        utf8[n] = 0;
    }

    [DllImport("OpenCvSharpExtern", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
    private static extern unsafe ExceptionStatus imgproc_putText(IntPtr img, byte* text, Point org, int fontFace, double fontScale, Scalar color,
        int thickness, int lineType, int bottomLeftOrigin);

    [DllImport("OpenCvSharpExtern", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
    private static extern unsafe ExceptionStatus imgproc_getTextSize(byte* text, int fontFace, double fontScale, int thickness, out int baseLine,
        out Size returnValue);

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
    public static void Panel(Mat dst, TextLines lines, Point at, double scale = 0.38)
    {
        if (lines.Count == 0) return;
        var lineH = (int)(22 * scale / 0.5);
        var width = 0;
        for (var i = 0; i < lines.Count; i++) width = Math.Max(width, Width(lines[i], scale));
        width += 8;
        var rect = new Rect(at.X, at.Y, Math.Min(width, dst.Width - at.X), Math.Min(lineH * lines.Count + 6, dst.Height - at.Y));
        if (rect.Width <= 0 || rect.Height <= 0) return;
        Shade(dst, rect);
        for (var i = 0; i < lines.Count; i++) Draw(dst, lines[i], new Point(at.X + 4, at.Y + lineH * (i + 1)), scale);
    }
}
