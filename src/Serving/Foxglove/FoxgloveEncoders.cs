using OpenCvSharp;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.RosFrames;

namespace RealtimeMtl.Serving.Foxglove;

/// <summary>
/// One camera's packets as Foxglove messages, binary: ROS 2 messages in CDR (<see cref="RosFrameMessages"/>), the
/// encoding foxglove_bridge uses, so Foxglove, Lichtblick and any ROS 2 CDR reader decode them with the schema the
/// channel advertises. Null when the packet has nothing for the channel.
/// </summary>
public sealed class FoxgloveEncoders(LabelSet labels, string frameId)
{
    private readonly ImageEncodingParam[] _jpeg = [new(ImwriteFlags.JpegQuality, 80)];
    private readonly RosFrameMessages _ros = new(labels, frameId);
    private byte[]? _classes;

    public string FrameId => _ros.FrameId;
    public byte[]? AnnotatedJpeg(FramePacket p, long t) => p.Rendered is null ? null : _ros.JpegOverlay(p, t, _jpeg);
    public byte[] Labels(FramePacket p, long t) => _ros.Labels(p, t);
    public byte[] Depth(FramePacket p, long t) => _ros.Depth(p, t);
    public byte[] CameraInfo(FramePacket p, long t) => _ros.CameraInfo(p, t);
    public byte[] PointCloud(FramePacket p, long t) => _ros.PointCloud(p, t);
    public byte[] Transform(FramePacket p, long t) => _ros.StaticTransform(t);
    public byte[] ClassMap(FramePacket p, long t) => _classes ??= _ros.ClassMap();
}
