using System.Text.Json.Nodes;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Serving.Foxglove;

/// <summary>
/// One advertised channel: its id, topic, schema and the encoder that turns a packet into its message; the camera
/// whose frames it carries (index into the server's cameras).
/// </summary>
public sealed record FoxgloveChannel(int Id, string Topic, string Schema, Func<FramePacket, JsonObject, JsonObject?> Encode, int Camera = 0)
{
    /// <summary>The channel table: what the server advertises, in id order.</summary>
    public static IReadOnlyList<FoxgloveChannel> Table(FoxgloveEncoders e) =>
    [
        new(1, "/rtmtl/annotated", "foxglove.CompressedImage", e.AnnotatedJpeg),
        new(2, "/rtmtl/labels", "foxglove.RawImage", e.Labels),
        new(3, "/rtmtl/depth", "foxglove.RawImage", e.Depth),
        new(4, "/rtmtl/calibration", "foxglove.CameraCalibration", e.Calibration),
        new(5, "/rtmtl/points", "foxglove.PointCloud", e.PointCloud),
        new(6, "/rtmtl/classes", "rtmtl.ClassMap", e.ClassMap),
    ];

    /// <summary>
    /// Several cameras: per camera /{camera}/image, /{camera}/labels, /{camera}/depth, /{camera}/camera_info and
    /// /{camera}/points (ids 10 x (i + 1) + 1..5), each with the camera's own frame id; one /rtmtl/classes (id 6, sent with
    /// the first camera's frames).
    /// </summary>
    public static IReadOnlyList<FoxgloveChannel> Table(IReadOnlyList<(string Camera, FoxgloveEncoders Encoders)> cameras)
    {
        var list = new List<FoxgloveChannel> { new(6, "/rtmtl/classes", "rtmtl.ClassMap", cameras[0].Encoders.ClassMap) };
        for (var i = 0; i < cameras.Count; i++)
        {
            var (name, e) = cameras[i];
            var b = 10 * (i + 1);
            list.Add(new(b + 1, $"/{name}/image", "foxglove.CompressedImage", e.AnnotatedJpeg, i));
            list.Add(new(b + 2, $"/{name}/labels", "foxglove.RawImage", e.Labels, i));
            list.Add(new(b + 3, $"/{name}/depth", "foxglove.RawImage", e.Depth, i));
            list.Add(new(b + 4, $"/{name}/camera_info", "foxglove.CameraCalibration", e.Calibration, i));
            list.Add(new(b + 5, $"/{name}/points", "foxglove.PointCloud", e.PointCloud, i));
        }
        return list;
    }
}
