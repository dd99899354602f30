using OpenCvSharp;
using OpenCvSharp.Internal;

namespace RealtimeMtl.Pipeline.Imaging;

/// <summary>
/// The OpenCV calls of the per-frame path without OpenCvSharp's per-call wrapper objects. Each Cv2 call builds a
/// managed InputArray/OutputArray (about 100 bytes with a finaliser) and disposes the output one; here the native
/// cv::_InputArray/_OutputArray are created and deleted around the call, so a frame allocates nothing managed.
/// Errors still surface as OpenCvSharp's <see cref="OpenCVException"/>.
/// </summary>
public static class CvNative
{
    public static void Resize(Mat src, Mat dst, Size size, InterpolationFlags interpolation)
    {
        var i = In(src); var o = Out(dst);
        try { NativeMethods.HandleException(NativeMethods.imgproc_resize(i, o, size, 0, 0, (int)interpolation)); }
        finally { Free(i, o); GC.KeepAlive(src); GC.KeepAlive(dst); }
    }

    public static void CvtColor(Mat src, Mat dst, ColorConversionCodes code)
    {
        var i = In(src); var o = Out(dst);
        try { NativeMethods.HandleException(NativeMethods.imgproc_cvtColor(i, o, (int)code, 0)); }
        finally { Free(i, o); GC.KeepAlive(src); GC.KeepAlive(dst); }
    }

    /// <summary>dst = a * alpha + b * beta + gamma (same size and type).</summary>
    public static void AddWeighted(Mat a, double alpha, Mat b, double beta, double gamma, Mat dst)
    {
        var ia = In(a); var ib = In(b); var o = Out(dst);
        try { NativeMethods.HandleException(NativeMethods.core_addWeighted(ia, alpha, ib, beta, gamma, o, -1)); }
        finally { Free(ia, o); Free(ib, IntPtr.Zero); GC.KeepAlive(a); GC.KeepAlive(b); GC.KeepAlive(dst); }
    }

    /// <summary>Colours an 8-bit image through a 256-entry BGR table (OpenCV's applyColorMap with a user table).</summary>
    public static void ApplyColorMap(Mat src, Mat dst, Mat table)
    {
        var i = In(src); var t = In(table); var o = Out(dst);
        try { NativeMethods.HandleException(NativeMethods.imgproc_applyColorMap2(i, o, t)); }
        finally { Free(i, o); Free(t, IntPtr.Zero); GC.KeepAlive(src); GC.KeepAlive(dst); GC.KeepAlive(table); }
    }

    public static void MorphologyEx(Mat src, Mat dst, MorphTypes op, Mat kernel)
    {
        var i = In(src); var k = In(kernel); var o = Out(dst);
        try
        {
            NativeMethods.HandleException(NativeMethods.imgproc_morphologyEx(i, o, (int)op, k, new Point(-1, -1), 1, (int)BorderTypes.Constant,
            Scalar.All(double.MaxValue)));
        }
        finally { Free(i, o); Free(k, IntPtr.Zero); GC.KeepAlive(src); GC.KeepAlive(dst); GC.KeepAlive(kernel); }
    }

    public static void Line(Mat img, Point a, Point b, Scalar color, int thickness)
    {
        var o = Out(img);
        try { NativeMethods.HandleException(NativeMethods.imgproc_line(o, a, b, color, thickness, (int)LineTypes.Link8, 0)); }
        finally { Free(IntPtr.Zero, o); GC.KeepAlive(img); }
    }

    /// <summary>Sets the pixels of <paramref name="dst"/> where <paramref name="mask"/> is non-zero.</summary>
    public static void SetTo(Mat dst, Scalar value, Mat mask)
    {
        // This entry point takes the mask as a cv::Mat*, not an _InputArray.
        try { NativeMethods.HandleException(NativeMethods.core_Mat_setTo_Scalar(dst.CvPtr, value, mask.CvPtr)); }
        finally { GC.KeepAlive(dst); GC.KeepAlive(mask); }
    }

    /// <summary>Copies <paramref name="src"/> into the <paramref name="area"/> of <paramref name="dst"/> (same type; no ROI Mat header).</summary>
    public static unsafe void CopyInto(Mat src, Mat dst, Rect area)
    {
        if (src.Type() != dst.Type() || src.Width != area.Width || src.Height != area.Height || area.X < 0 || area.Y < 0 || area.Right > dst.Width
            || area.Bottom > dst.Height)
            throw new ArgumentException($"cannot copy {src.Width}x{src.Height} {src.Type()} into {area} of {dst.Width}x{dst.Height} {dst.Type()}");
        var bytes = (int)src.ElemSize();
        var row = area.Width * bytes;
        for (var y = 0; y < area.Height; y++)
            new ReadOnlySpan<byte>((void*)src.Ptr(y), row).CopyTo(new Span<byte>((byte*)dst.Ptr(area.Y + y) + area.X * bytes, row));
    }

    private static IntPtr In(Mat m)
    {
        NativeMethods.HandleException(NativeMethods.core_InputArray_new_byMat(m.CvPtr, out var p));
        return p;
    }

    private static IntPtr Out(Mat m)
    {
        NativeMethods.HandleException(NativeMethods.core_OutputArray_new_byMat(m.CvPtr, out var p));
        return p;
    }

    private static void Free(IntPtr input, IntPtr output)
    {
        if (input != IntPtr.Zero) NativeMethods.core_InputArray_delete(input);
        if (output != IntPtr.Zero) NativeMethods.core_OutputArray_delete(output);
    }
}
