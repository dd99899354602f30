using RealtimeMtl.Common.Logging;
using RealtimeMtl.Common.Ros;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Ros2.Dds;
using RealtimeMtl.RosFrames;

namespace RealtimeMtl.Ros2.Publishing;

/// <summary>
/// The engine as a ROS 2 node (--ros2): per camera, on PREFIX (/rtmtl for one camera, /NAME for each of several),
///   PREFIX/image        sensor_msgs/Image bgr8, the input          PREFIX/overlay  sensor_msgs/Image bgr8, as rendered
///   PREFIX/labels       sensor_msgs/Image mono8, class ids         PREFIX/depth    sensor_msgs/Image 32FC1 m, NaN invalid
///   PREFIX/camera_info  sensor_msgs/CameraInfo                     PREFIX/points   sensor_msgs/PointCloud2 (--ros2-points)
/// with ROS 2's sensor-data QoS (best effort, keep last 5; reliable with --ros2-reliable), and latched (reliable,
/// transient local): /rtmtl/classes (std_msgs/String, JSON) and /tf_static (camera_link to the optical frame, for a
/// camera whose frame id is the run's own: a ROS 2 camera's frame already hangs in the robot's TF tree).
/// The messages are the ones MCAP and Foxglove carry (<see cref="RosFrameMessages"/>), stamped with the input frame's
/// stamp and frame id. A topic nobody subscribes to is not even encoded; the sink is lossy, so a slow subscriber
/// never holds up the engine.
/// </summary>
public sealed class Ros2PublisherSink : IAsyncDisposable
{
    private readonly DdsParticipant _participant;
    private readonly Camera[] _cameras;
    private readonly DdsWriter _classes, _tf;
    private readonly IEventLog _log;
    private int _completed;

    private sealed record Camera(RosFrameMessages Messages, string Prefix, DdsWriter Image, DdsWriter Overlay, DdsWriter Labels,
        DdsWriter Depth, DdsWriter Info, DdsWriter? Points)
    {
        public DdsWriter[] Writers => Points is null ? [Image, Overlay, Labels, Depth, Info] : [Image, Overlay, Labels, Depth, Info, Points];

        /// <summary>One CDR buffer per topic, reused for every message: publishing allocates nothing per frame.</summary>
        public CdrWriter ImageCdr { get; } = new();
        public CdrWriter OverlayCdr { get; } = new();
        public CdrWriter LabelsCdr { get; } = new();
        public CdrWriter DepthCdr { get; } = new();
        public CdrWriter InfoCdr { get; } = new();
    }

    /// <param name="cameras">Each camera's name, frame id, and whether its frames carry the run's frame id (then /tf_static places it).</param>
    public Ros2PublisherSink(Ros2Options options, LabelSet labels, IReadOnlyList<(string Name, string FrameId, bool OwnFrame)> cameras,
        IEventLog log, DdsParticipant? participant = null)
    {
        if (cameras.Count == 0) throw new ArgumentException("ROS 2 publishing needs at least one camera");
        _log = log;
        _participant = participant ?? new DdsParticipant();
        var data = options.Reliable ? DdsQos.ReliableData : DdsQos.SensorData;
        var prefixes = options.Prefixes(cameras.Select(c => c.Name).ToList());
        _classes = _participant.Writer(options.ClassesTopic, RosMessages.String.Name, DdsQos.Latched);
        _tf = _participant.Writer("/tf_static", RosMessages.TFMessage.Name, DdsQos.Latched);
        _cameras = cameras.Select((c, i) =>
        {
            var p = "/" + prefixes[i];
            return new Camera(new RosFrameMessages(labels, c.FrameId), p,
                _participant.Writer($"{p}/image", RosMessages.Image.Name, data), _participant.Writer($"{p}/overlay", RosMessages.Image.Name, data),
                _participant.Writer($"{p}/labels", RosMessages.Image.Name, data), _participant.Writer($"{p}/depth", RosMessages.Image.Name, data),
                _participant.Writer($"{p}/camera_info", RosMessages.CameraInfo.Name, data),
                options.Points ? _participant.Writer($"{p}/points", RosMessages.PointCloud2.Name, data) : null);
        }).ToArray();
        // Latched now, before any frame: a node that starts later still gets them (transient local).
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        _classes.Write(_cameras[0].Messages.ClassMap());
        // One message with every camera's transform: a latched topic keeps only its last message.
        var own = cameras.Select((c, i) => (c, i)).Where(x => x.c.OwnFrame).Select(x => (_cameras[x.i].Messages.ParentFrame,
            _cameras[x.i].Messages.FrameId)).ToList();
        if (own.Count > 0) _tf.Write(RosMessages.WriteTransforms(now, own, (0, 0, 0), RosMessages.BodyToOptical));
    }

    /// <summary>The topics, for the start-up line: /rtmtl/{image,overlay,...}.</summary>
    public string Describe() =>
        string.Join(", ", _cameras.Select(c => $"{c.Prefix}/{{{string.Join(",", c.Writers.Select(w => w.Topic[(c.Prefix.Length + 1)..]))}}}"))
        + $", {_classes.Topic}, /tf_static (ROS_DOMAIN_ID {_participant.Domain})";

    /// <summary>The sink of camera <paramref name="index"/>.</summary>
    public IFrameSink CameraSink(int index)
    {
        var c = _cameras[index];
        // Only the overlay topic needs the drawn picture: a robot that reads depth, labels and camera info costs no drawing.
        return new CameraSink("ros2", lossless: false, p => Publish(c, p), wanted: () => Array.Exists(c.Writers, w => w.Subscribers > 0),
            complete: Complete, pictureWanted: () => c.Overlay.Subscribers > 0);
    }

    private ValueTask Publish(Camera c, FramePacket p)
    {
        var t = FrameTime.Stamp(p.Frame).UnixNs;
        // Each message only for a topic someone reads: a robot that listens to depth alone pays for depth alone.
        if (c.Image.Subscribers > 0) { c.Messages.Input(p, t, c.ImageCdr); c.Image.Write(c.ImageCdr.Written); }
        if (c.Overlay.Subscribers > 0 && c.Messages.Overlay(p, t, c.OverlayCdr)) c.Overlay.Write(c.OverlayCdr.Written);
        if (c.Labels.Subscribers > 0) { c.Messages.Labels(p, t, c.LabelsCdr); c.Labels.Write(c.LabelsCdr.Written); }
        if (c.Depth.Subscribers > 0) { c.Messages.Depth(p, t, c.DepthCdr); c.Depth.Write(c.DepthCdr.Written); }
        if (c.Info.Subscribers > 0) { c.Messages.CameraInfo(p, t, c.InfoCdr); c.Info.Write(c.InfoCdr.Written); }
        if (c.Points is { Subscribers: > 0 } points) points.Write(c.Messages.PointCloud(p, t));
        return ValueTask.CompletedTask;
    }

    /// <summary>Messages sent, refused and bytes, over every topic.</summary>
    public (long Sent, long Failed, long Bytes) Totals()
    {
        var all = _cameras.SelectMany(c => c.Writers).Append(_classes).Append(_tf).ToList();
        return (all.Sum(w => w.Sent), all.Sum(w => w.Failed), all.Sum(w => w.Bytes));
    }

    private ValueTask Complete()
    {
        if (Interlocked.Increment(ref _completed) == _cameras.Length)
        {
            var (sent, failed, bytes) = Totals();
            var perTopic = _cameras.SelectMany(c => c.Writers).Where(w => w.Sent > 0)
                .Select(w => $"{w.Topic} {w.Bytes / (double)w.Sent / 1024:0.#} KiB");
            _log.Info($"ros2: {sent} messages ({bytes / 1e6:0.0} MB) published{(failed > 0 ? $", {failed} refused by DDS" : "")}"
                + (sent > 0 ? $"; a message on {string.Join(", ", perTopic)}" : ""));
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _participant.Dispose();
        return ValueTask.CompletedTask;
    }
}
