using System.Text.Json.Nodes;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Serving.Foxglove;

/// <summary>One advertised channel: its id, topic, schema and the encoder that turns a packet into its message.</summary>
public sealed record FoxgloveChannel(int Id, string Topic, string Schema, Func<FramePacket, JsonObject, JsonObject?> Encode)
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
}
