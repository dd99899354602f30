namespace RealtimeMtl.Common.Ros;

/// <summary>A ROS 2 message type: its name (sensor_msgs/msg/Image) and its ros2msg definition with every dependency.</summary>
public sealed record RosSchema(string Name, string Definition);

/// <summary>One field of a sensor_msgs/PointField (datatype: 2 UINT8, 7 FLOAT32).</summary>
public readonly record struct PointField(string Name, uint Offset, byte Datatype);

/// <summary>
/// The ROS 2 messages the engine publishes (MCAP recordings, Foxglove): their schemas in ros2msg form, as rosbag2
/// records them (the message's own definition, then each dependency after a line of '=' and "MSG: pkg/Type"), and a
/// CDR writer per message. Field lists follow ROS 2 Humble's sensor_msgs, std_msgs, geometry_msgs and tf2_msgs.
/// </summary>
public static class RosMessages
{
    private const string Separator = "================================================================================\n";
    private const string Time = "int32 sec\nuint32 nanosec\n";
    private const string Header = "builtin_interfaces/Time stamp\nstring frame_id\n";

    private static string Definition(string own, params (string Name, string Text)[] dependencies) =>
        own + string.Concat(dependencies.Select(d => $"{Separator}MSG: {d.Name}\n{d.Text}"));

    public static RosSchema Image { get; } = new("sensor_msgs/msg/Image", Definition(
        "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n",
        ("std_msgs/Header", Header), ("builtin_interfaces/Time", Time)));

    public static RosSchema CompressedImage { get; } = new("sensor_msgs/msg/CompressedImage", Definition(
        "std_msgs/Header header\nstring format\nuint8[] data\n",
        ("std_msgs/Header", Header), ("builtin_interfaces/Time", Time)));

    public static RosSchema CameraInfo { get; } = new("sensor_msgs/msg/CameraInfo", Definition(
        "std_msgs/Header header\nuint32 height\nuint32 width\nstring distortion_model\nfloat64[] d\nfloat64[9] k\nfloat64[9] r\nfloat64[12] " +
            "p\nuint32 binning_x\nuint32 binning_y\nsensor_msgs/RegionOfInterest roi\n",
        ("std_msgs/Header", Header), ("builtin_interfaces/Time", Time),
        ("sensor_msgs/RegionOfInterest", "uint32 x_offset\nuint32 y_offset\nuint32 height\nuint32 width\nbool do_rectify\n")));

    public static RosSchema PointCloud2 { get; } = new("sensor_msgs/msg/PointCloud2", Definition(
        "std_msgs/Header header\nuint32 height\nuint32 width\nsensor_msgs/PointField[] fields\nbool is_bigendian\nuint32 point_step\nuint32 " +
            "row_step\nuint8[] data\nbool is_dense\n",
        ("std_msgs/Header", Header), ("builtin_interfaces/Time", Time),
        ("sensor_msgs/PointField", "uint8 INT8=1\nuint8 UINT8=2\nuint8 INT16=3\nuint8 UINT16=4\nuint8 INT32=5\nuint8 UINT32=6\nuint8 " +
            "FLOAT32=7\nuint8 FLOAT64=8\nstring name\nuint32 offset\nuint8 datatype\nuint32 count\n")));

    public static RosSchema TFMessage { get; } = new("tf2_msgs/msg/TFMessage", Definition(
        "geometry_msgs/TransformStamped[] transforms\n",
        ("geometry_msgs/TransformStamped", "std_msgs/Header header\nstring child_frame_id\ngeometry_msgs/Transform transform\n"),
        ("std_msgs/Header", Header), ("builtin_interfaces/Time", Time),
        ("geometry_msgs/Transform", "geometry_msgs/Vector3 translation\ngeometry_msgs/Quaternion rotation\n"),
        ("geometry_msgs/Vector3", "float64 x\nfloat64 y\nfloat64 z\n"),
        ("geometry_msgs/Quaternion", "float64 x\nfloat64 y\nfloat64 z\nfloat64 w\n")));

    public static RosSchema String { get; } = new("std_msgs/msg/String", "string data\n");

    /// <summary>The rotation from a camera's body frame (x forward, z up; REP 103) to its optical frame (z forward, x right, y down; REP
    /// 105).</summary>
    public static readonly (double X, double Y, double Z, double W) BodyToOptical = (-0.5, 0.5, -0.5, 0.5);

    private static void WriteHeader(CdrWriter w, long unixNs, string frameId)
    {
        w.Int32((int)(unixNs / 1_000_000_000));
        w.UInt32((uint)(unixNs % 1_000_000_000));
        w.String(frameId);
    }

    /// <summary>sensor_msgs/Image; <paramref name="fill"/> writes the height x step bytes of pixels.</summary>
    public static byte[] WriteImage(long unixNs, string frameId, int width, int height, string encoding, int step, SpanAction fill)
    {
        var w = new CdrWriter(64 + frameId.Length + height * step);
        WriteImage(w, unixNs, frameId, width, height, encoding, step, fill);
        return w.ToArray();
    }

    /// <summary>sensor_msgs/Image into <paramref name="w"/> (from its start).</summary>
    public static void WriteImage(CdrWriter w, long unixNs, string frameId, int width, int height, string encoding, int step, SpanAction fill)
    {
        w.Reset();
        WriteHeader(w, unixNs, frameId);
        w.UInt32((uint)height); w.UInt32((uint)width);
        w.String(encoding);
        w.UInt8(0);
        w.UInt32((uint)step);
        fill(w.Sequence(height * step));
    }

    /// <summary>Writes pixel bytes into the message.</summary>
    public delegate void SpanAction(Span<byte> destination);

    public static byte[] WriteCompressedImage(long unixNs, string frameId, string format, ReadOnlySpan<byte> data)
    {
        var w = new CdrWriter(64 + frameId.Length + data.Length);
        WriteHeader(w, unixNs, frameId);
        w.String(format);
        w.Bytes(data);
        return w.ToArray();
    }

    /// <summary>sensor_msgs/CameraInfo; roi all zero (the full image), binning 0 (none).</summary>
    public static byte[] WriteCameraInfo(long unixNs, string frameId, int width, int height, string distortionModel, ReadOnlySpan<double> d,
        ReadOnlySpan<double> k, ReadOnlySpan<double> r, ReadOnlySpan<double> p)
    {
        var w = new CdrWriter(512);
        WriteCameraInfo(w, unixNs, frameId, width, height, distortionModel, d, k, r, p);
        return w.ToArray();
    }

    /// <summary>sensor_msgs/CameraInfo into <paramref name="w"/> (from its start).</summary>
    public static void WriteCameraInfo(CdrWriter w, long unixNs, string frameId, int width, int height, string distortionModel,
        ReadOnlySpan<double> d,
        ReadOnlySpan<double> k, ReadOnlySpan<double> r, ReadOnlySpan<double> p)
    {
        if (k.Length != 9 || r.Length != 9 || p.Length != 12) throw new ArgumentException("CameraInfo needs k[9], r[9] and p[12]");
        w.Reset();
        WriteHeader(w, unixNs, frameId);
        w.UInt32((uint)height); w.UInt32((uint)width);
        w.String(distortionModel);
        w.Float64s(d, fixedLength: false);
        w.Float64s(k, fixedLength: true);
        w.Float64s(r, fixedLength: true);
        w.Float64s(p, fixedLength: true);
        w.UInt32(0); w.UInt32(0);
        w.UInt32(0); w.UInt32(0); w.UInt32(0); w.UInt32(0); w.Bool(false);
    }

    /// <summary>sensor_msgs/PointCloud2, unorganised (height 1): <paramref name="data"/> holds the points, <paramref name="pointStep"/> bytes
    /// each.</summary>
    public static byte[] WritePointCloud2(long unixNs, string frameId, IReadOnlyList<PointField> fields, int pointStep, ReadOnlySpan<byte> data,
        bool dense)
    {
        var w = new CdrWriter(256 + data.Length);
        WritePointCloud2(w, unixNs, frameId, fields, pointStep, data, dense);
        return w.ToArray();
    }

    /// <summary>sensor_msgs/PointCloud2 into <paramref name="w"/> (from its start).</summary>
    public static void WritePointCloud2(CdrWriter w, long unixNs, string frameId, IReadOnlyList<PointField> fields, int pointStep,
        ReadOnlySpan<byte> data, bool dense)
    {
        w.Reset();
        var points = data.Length / pointStep;
        WriteHeader(w, unixNs, frameId);
        w.UInt32(1); w.UInt32((uint)points);
        w.UInt32((uint)fields.Count);
        foreach (var f in fields) { w.String(f.Name); w.UInt32(f.Offset); w.UInt8(f.Datatype); w.UInt32(1); }
        w.Bool(false);
        w.UInt32((uint)pointStep);
        w.UInt32((uint)(points * pointStep));
        w.Bytes(data);
        w.Bool(dense);
    }

    /// <summary>tf2_msgs/TFMessage with one transform, <paramref name="parent"/> to <paramref name="child"/>.</summary>
    public static byte[] WriteTransform(long unixNs, string parent, string child, (double X, double Y, double Z) translation,
        (double X, double Y, double Z, double W) rotation) => WriteTransforms(unixNs, [(parent, child)], translation, rotation);

    /// <summary>tf2_msgs/TFMessage with one transform per (parent, child) pair, all with the same offset and rotation.</summary>
    public static byte[] WriteTransforms(long unixNs, IReadOnlyList<(string Parent, string Child)> frames, (double X, double Y, double Z) translation,
        (double X, double Y, double Z, double W) rotation)
    {
        var w = new CdrWriter(256 * frames.Count);
        w.UInt32((uint)frames.Count);
        foreach (var (parent, child) in frames)
        {
            WriteHeader(w, unixNs, parent);
            w.String(child);
            w.Float64(translation.X); w.Float64(translation.Y); w.Float64(translation.Z);
            w.Float64(rotation.X); w.Float64(rotation.Y); w.Float64(rotation.Z); w.Float64(rotation.W);
        }
        return w.ToArray();
    }

    public static byte[] WriteString(string data)
    {
        var w = new CdrWriter(64 + data.Length * 2);
        w.String(data);
        return w.ToArray();
    }
}
