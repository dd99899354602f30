using RealtimeMtl.Common.Ros;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Serving.Foxglove;

/// <summary>
/// One advertised channel: its id, topic, ROS 2 schema (CDR encoding) and the encoder that turns a packet, stamped
/// (Unix ns), into its message; the camera whose frames it carries (index into the server's cameras).
/// </summary>
public sealed record FoxgloveChannel(int Id, string Topic, RosSchema Schema, Func<FramePacket, long, byte[]?> Encode, int Camera = 0)
{
    /// <summary>The channel table: what the server advertises, in id order.</summary>
    public static IReadOnlyList<FoxgloveChannel> Table(FoxgloveEncoders e) =>
    [
        new(1, "/rtmtl/annotated", RosMessages.CompressedImage, e.AnnotatedJpeg),
        new(2, "/rtmtl/labels", RosMessages.Image, e.Labels),
        new(3, "/rtmtl/depth", RosMessages.Image, e.Depth),
        new(4, "/rtmtl/camera_info", RosMessages.CameraInfo, e.CameraInfo),
        new(5, "/rtmtl/points", RosMessages.PointCloud2, e.PointCloud),
        new(6, "/rtmtl/classes", RosMessages.String, e.ClassMap),
        new(7, "/tf_static", RosMessages.TFMessage, e.Transform),
    ];

    /// <summary>
    /// Several cameras: per camera /{camera}/image, /{camera}/labels, /{camera}/depth, /{camera}/camera_info,
    /// /{camera}/points and /{camera}/tf_static (ids 10 x (i + 1) + 1..6), each with the camera's own frame id; one
    /// /rtmtl/classes (id 6, sent with the first camera's frames).
    /// </summary>
    public static IReadOnlyList<FoxgloveChannel> Table(IReadOnlyList<(string Camera, FoxgloveEncoders Encoders)> cameras)
    {
        var list = new List<FoxgloveChannel> { new(6, "/rtmtl/classes", RosMessages.String, cameras[0].Encoders.ClassMap) };
        for (var i = 0; i < cameras.Count; i++)
        {
            var (name, e) = cameras[i];
            var b = 10 * (i + 1);
            list.Add(new(b + 1, $"/{name}/image", RosMessages.CompressedImage, e.AnnotatedJpeg, i));
            list.Add(new(b + 2, $"/{name}/labels", RosMessages.Image, e.Labels, i));
            list.Add(new(b + 3, $"/{name}/depth", RosMessages.Image, e.Depth, i));
            list.Add(new(b + 4, $"/{name}/camera_info", RosMessages.CameraInfo, e.CameraInfo, i));
            list.Add(new(b + 5, $"/{name}/points", RosMessages.PointCloud2, e.PointCloud, i));
            list.Add(new(b + 6, $"/{name}/tf_static", RosMessages.TFMessage, e.Transform, i));
        }
        return list;
    }
}
