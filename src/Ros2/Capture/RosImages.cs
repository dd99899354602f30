using OpenCvSharp;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Common.Ros;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Ros2.Capture;

/// <summary>sensor_msgs/Image pixels as the engine's frames hold them: BGR images, depth in metres (0: none).</summary>
public static class RosImages
{
    /// <summary>The colour encodings a ROS 2 camera may send (REP 104 names; yuv422 is UYVY).</summary>
    public static readonly string[] ColourEncodings = ["bgr8", "rgb8", "bgra8", "rgba8", "mono8", "yuv422", "uyvy", "yuv422_yuy2", "yuyv"];

    public static Mat ToBgr(RosImage m, string topic)
    {
        var (type, code) = m.Encoding switch
        {
            "bgr8" => (MatType.CV_8UC3, (ColorConversionCodes?)null),
            "rgb8" => (MatType.CV_8UC3, ColorConversionCodes.RGB2BGR),
            "bgra8" => (MatType.CV_8UC4, ColorConversionCodes.BGRA2BGR),
            "rgba8" => (MatType.CV_8UC4, ColorConversionCodes.RGBA2BGR),
            "mono8" => (MatType.CV_8UC1, ColorConversionCodes.GRAY2BGR),
            "yuv422" or "uyvy" => (MatType.CV_8UC2, ColorConversionCodes.YUV2BGR_UYVY),
            "yuv422_yuy2" or "yuyv" => (MatType.CV_8UC2, ColorConversionCodes.YUV2BGR_YUY2),
            _ => throw new SourceException($"ROS 2 topic {topic} sends '{m.Encoding}' images; read are {string.Join(", ", ColourEncodings)} (or a "
                + $"/compressed topic)."),
        };
        using var view = Wrap(m, type);
        if (code is null) return view.Clone();
        var bgr = new Mat();
        Cv2.CvtColor(view, bgr, code.Value);
        return bgr;
    }

    /// <summary>16UC1 millimetres or 32FC1 metres, as CV_32FC1 metres with 0 where there is no depth.</summary>
    public static Mat ToMetres(RosImage m, string topic)
    {
        var metres = new Mat();
        switch (m.Encoding)
        {
            case "16UC1" or "mono16":
                using (var mm = Wrap(m, MatType.CV_16UC1)) mm.ConvertTo(metres, MatType.CV_32FC1, 0.001);
                break;
            case "32FC1":
                using (var raw = Wrap(m, MatType.CV_32FC1)) raw.CopyTo(metres);
                break;
            default:
                metres.Dispose();
                throw new SourceException($"ROS 2 depth topic {topic} sends '{m.Encoding}'; depth is read as 16UC1 (millimetres) or 32FC1 (metres).");
        }
        DepthImage.SanitiseInPlace(metres);
        return metres;
    }

    private static Mat Wrap(RosImage m, MatType type)
    {
        if (m.BigEndian && type.Depth != MatType.CV_8U) throw new SourceException($"big-endian {m.Encoding} images are not read; publish "
            + $"little-endian.");
        var rowBytes = m.Width * type.Channels * (type.Depth == MatType.CV_8U ? 1 : type.Depth == MatType.CV_16U ? 2 : 4);
        if (m.Step < rowBytes) throw new SourceException($"a {m.Encoding} image of width {m.Width} has step {m.Step}, less than a row ({rowBytes} "
            + $"bytes).");
        return Mat.FromPixelData(m.Height, m.Width, type, m.Data, m.Step);
    }
}
