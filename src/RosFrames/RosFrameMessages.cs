using System.Runtime.InteropServices;
using System.Text.Json;
using OpenCvSharp;
using RealtimeMtl.Common.Ros;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.RosFrames;

/// <summary>
/// One camera's frames as ROS 2 messages (CDR), shared by every sink that speaks ROS (MCAP recordings, Foxglove):
/// the input image (bgr8), the colour overlay (bgr8), the label map (mono8, class ids), depth (32FC1 metres, NaN where
/// invalid, REP 118), CameraInfo, a coloured point cloud, the static transform from the camera's body frame, and the
/// class names and palette (std_msgs/String holding JSON). Frame ids follow REP 103/105: images are in the optical
/// frame (z forward, x right, y down), <see cref="ParentFrame"/> is the body frame (x forward, z up) it hangs from.
/// </summary>
public sealed class RosFrameMessages(LabelSet labels, string frameId)
{
    public string FrameId { get; } = frameId;

    /// <summary>The body frame of the camera: camera_optical_frame hangs from camera_link, front_optical_frame from front_link, x from
    /// x_link.</summary>
    public string ParentFrame { get; } = frameId.EndsWith("_optical_frame", StringComparison.Ordinal) ? frameId[..^"_optical_frame".Length] + "_link"
        : frameId + "_link";

    /// <summary>The class map as JSON: {"schema_version":1,"classes":[{"id","name","color"}]}.</summary>
    public string ClassMapJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["schema_version"] = 1,
        ["classes"] = labels.Classes.Select((n, i) => new Dictionary<string, object>
        {
            ["id"] = i, ["name"] = n,
            ["color"] = labels.Hex(i)
        }).ToArray(),
    });

    public byte[] ClassMap() => RosMessages.WriteString(ClassMapJson());

    /// <summary>tf2_msgs/TFMessage: the optical frame in the body frame (no offset, REP 103's rotation), for /tf_static.</summary>
    public byte[] StaticTransform(long unixNs) => RosMessages.WriteTransform(unixNs, ParentFrame, FrameId, (0, 0, 0), RosMessages.BodyToOptical);

    /// <summary>The frame id of a frame's messages: the sensor's own (a ROS 2 camera's), else the run's.</summary>
    public string FrameIdOf(FramePacket p) => p.Frame.FrameId ?? FrameId;

    public byte[] Input(FramePacket p, long unixNs) => Bgr(p.Frame.Image, unixNs, FrameIdOf(p));

    /// <summary>The input image into <paramref name="w"/> (a publisher's reused writer): as <see cref="Input(FramePacket, long)"/>.</summary>
    public void Input(FramePacket p, long unixNs, CdrWriter w) => Raw(w, p.Frame.Image, unixNs, FrameIdOf(p), "bgr8", 3, null);

    /// <summary>The rendered frame into <paramref name="w"/>; false before rendering.</summary>
    public bool Overlay(FramePacket p, long unixNs, CdrWriter w)
    {
        if (p.Rendered is not { } r) return false;
        Raw(w, r, unixNs, FrameIdOf(p), "bgr8", 3, null);
        return true;
    }

    public void Labels(FramePacket p, long unixNs, CdrWriter w) => Raw(w, p.Labels, unixNs, FrameIdOf(p), "mono8", 1, null);

    public void Depth(FramePacket p, long unixNs, CdrWriter w) => Raw(w, p.Depth, unixNs, FrameIdOf(p), "32FC1", 4, NaNWhereInvalid);

    public void CameraInfo(FramePacket p, long unixNs, CdrWriter w)
    {
        var k = CameraIntrinsics.ForFrame(p.Frame.Intrinsics, p.Frame.Width, p.Frame.Height);
        RosMessages.WriteCameraInfo(w, unixNs, FrameIdOf(p), p.Frame.Width, p.Frame.Height, k.DistortionModel, k.DistortionOrZeros, k.K, k.R, k.P);
    }

    /// <summary>The rendered frame (its own size: a side-by-side layout is wider than the input); null before rendering.</summary>
    public byte[]? Overlay(FramePacket p, long unixNs) => p.Rendered is { } r ? Bgr(r, unixNs, FrameIdOf(p)) : null;

    public byte[] Labels(FramePacket p, long unixNs) => Raw(p.Labels, unixNs, FrameIdOf(p), "mono8", 1, null);

    public byte[] Depth(FramePacket p, long unixNs) => Raw(p.Depth, unixNs, FrameIdOf(p), "32FC1", 4, NaNWhereInvalid);

    /// <summary>REP 118: NaN marks a pixel without a depth.</summary>
    private static void NaNWhereInvalid(Span<byte> row)
    {
        var metres = MemoryMarshal.Cast<byte, float>(row);
        for (var i = 0; i < metres.Length; i++) if (!(metres[i] > 0) || !float.IsFinite(metres[i])) metres[i] = float.NaN;
    }

    public byte[] JpegOverlay(FramePacket p, long unixNs, ImageEncodingParam[] quality)
    {
        Cv2.ImEncode(".jpg", p.Rendered ?? p.Frame.Image, out var jpg, quality);
        return RosMessages.WriteCompressedImage(unixNs, FrameIdOf(p), "jpeg", jpg);
    }

    /// <summary>sensor_msgs/CameraInfo of the frame: its calibration at its size (NYUD-v2's Kinect when the source has none).</summary>
    public byte[] CameraInfo(FramePacket p, long unixNs)
    {
        var k = CameraIntrinsics.ForFrame(p.Frame.Intrinsics, p.Frame.Width, p.Frame.Height);
        return RosMessages.WriteCameraInfo(unixNs, FrameIdOf(p), p.Frame.Width, p.Frame.Height, k.DistortionModel, k.DistortionOrZeros, k.K, k.R,
            k.P);
    }

    /// <summary>The fields of <see cref="PointCloud"/>: x, y, z float32, rgba uint8 x4 (as one float32 "rgba" is unusual: kept as bytes), label
    /// uint8; 17 bytes a point.</summary>
    public static IReadOnlyList<PointField> PointFields { get; } =
        [new("x", 0, 7), new("y", 4, 7), new("z", 8, 7), new("red", 12, 2), new("green", 13, 2), new("blue", 14, 2), new("alpha", 15, 2), new("label",
            16, 2)];

    /// <summary>Every 4th pixel in each direction with a valid depth, back-projected with the frame's camera, in the optical frame.</summary>
    public unsafe byte[] PointCloud(FramePacket p, long unixNs)
    {
        int w = p.Frame.Width, h = p.Frame.Height;
        var k = CameraIntrinsics.ForFrame(p.Frame.Intrinsics, w, h);
        var d = (float*)p.Depth.Data; var img = (byte*)p.Frame.Image.Data; var lab = (byte*)p.Labels.Data;
        var data = new byte[((w + 3) / 4) * ((h + 3) / 4) * 17];
        var n = 0;
        for (var v = 0; v < h; v += 4)
            for (var u = 0; u < w; u += 4)
            {
                var i = v * w + u;
                var z = d[i];
                if (!(z > 0) || !float.IsFinite(z)) continue;
                var (x, y, _) = k.BackProject(u, v, z);
                var point = data.AsSpan(n, 17);
                MemoryMarshal.Write(point, in x); MemoryMarshal.Write(point[4..], in y); MemoryMarshal.Write(point[8..], in z);
                point[12] = img[i * 3 + 2]; point[13] = img[i * 3 + 1]; point[14] = img[i * 3]; point[15] = 255;
                point[16] = lab[i];
                n += 17;
            }
        return RosMessages.WritePointCloud2(unixNs, FrameIdOf(p), PointFields, 17, data.AsSpan(0, n), dense: true);
    }

    private static byte[] Bgr(Mat image, long unixNs, string frameId) => Raw(image, unixNs, frameId, "bgr8", 3, null);

    /// <summary>A Mat (8UC1, 8UC3 or 32FC1) as sensor_msgs/Image, row by row (a Mat need not be continuous); <paramref name="fix"/> may change each
    /// copied row.</summary>
    private static byte[] Raw(Mat m, long unixNs, string frameId, string encoding, int bytesPerPixel, SpanFix? fix)
    {
        var w = new CdrWriter(64 + frameId.Length + m.Rows * m.Cols * bytesPerPixel);
        Raw(w, m, unixNs, frameId, encoding, bytesPerPixel, fix);
        return w.ToArray();
    }

    private delegate void SpanFix(Span<byte> row);

    private static unsafe void Raw(CdrWriter writer, Mat m, long unixNs, string frameId, string encoding, int bytesPerPixel, SpanFix? fix)
    {
        int w = m.Cols, h = m.Rows;
        var step = w * bytesPerPixel;
        var stride = (long)m.Step();
        var data = (byte*)m.Data;
        RosMessages.WriteImage(writer, unixNs, frameId, w, h, encoding, step, dst =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = dst.Slice(y * step, step);
                new ReadOnlySpan<byte>(data + y * stride, step).CopyTo(row);
                fix?.Invoke(row);
            }
        });
    }
}
