namespace RealtimeMtl.Common.Ros;

/// <summary>A std_msgs/Header: the stamp in Unix nanoseconds and the frame id.</summary>
public readonly record struct RosHeader(long UnixNs, string FrameId);

/// <summary>A sensor_msgs/Image as read: pixel rows of <see cref="Step"/> bytes in <see cref="Data"/>.</summary>
public sealed record RosImage(RosHeader Header, int Width, int Height, string Encoding, bool BigEndian, int Step, byte[] Data);

/// <summary>A sensor_msgs/CompressedImage as read (format "jpeg", "png", or "bgr8; jpeg compressed bgr8" as image_transport writes it).</summary>
public sealed record RosCompressedImage(RosHeader Header, string Format, byte[] Data);

/// <summary>A sensor_msgs/CameraInfo as read.</summary>
public sealed record RosCameraInfo(RosHeader Header, int Width, int Height, string DistortionModel, double[] D, double[] K, double[] R, double[] P);

/// <summary>Reads the ROS 2 messages the engine takes in (camera topics), from the CDR that <see cref="RosMessages"/> writes.</summary>
public static class RosMessageReader
{
    private static RosHeader Header(ref CdrReader r)
    {
        var sec = r.Int32();
        var nanosec = r.UInt32();
        return new RosHeader(sec * 1_000_000_000L + nanosec, r.String());
    }

    public static RosImage Image(ReadOnlySpan<byte> cdr)
    {
        var r = new CdrReader(cdr);
        var header = Header(ref r);
        int height = (int)r.UInt32(), width = (int)r.UInt32();
        var encoding = r.String();
        var bigEndian = r.UInt8() != 0;
        var step = (int)r.UInt32();
        var data = r.Bytes();
        if (width < 0 || height < 0 || step < 0 || (long)step * height > data.Length)
            throw new FormatException($"sensor_msgs/Image of {width}x{height}, step {step}, holds only {data.Length} bytes");
        return new RosImage(header, width, height, encoding, bigEndian, step, data.ToArray());
    }

    public static RosCompressedImage CompressedImage(ReadOnlySpan<byte> cdr)
    {
        var r = new CdrReader(cdr);
        var header = Header(ref r);
        var format = r.String();
        return new RosCompressedImage(header, format, r.Bytes().ToArray());
    }

    public static RosCameraInfo CameraInfo(ReadOnlySpan<byte> cdr)
    {
        var r = new CdrReader(cdr);
        var header = Header(ref r);
        int height = (int)r.UInt32(), width = (int)r.UInt32();
        var model = r.String();
        var d = r.Float64s();
        return new RosCameraInfo(header, width, height, model, d, r.Float64s(9), r.Float64s(9), r.Float64s(12));
    }
}
