using RealtimeMtl.Common.Logging;
using RealtimeMtl.Common.Ros;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.RosFrames;

namespace RealtimeMtl.Sinks.Mcap;

/// <summary>
/// Records the perception as ROS 2 messages in an MCAP file (<c>--record-mcap</c>), which <c>ros2 bag play</c>,
/// Foxglove and the MCAP tools open. Per camera (topic prefix /rtmtl for one camera, /NAME for each of several):
///   PREFIX/image        sensor_msgs/Image bgr8, the input           PREFIX/overlay   sensor_msgs/Image bgr8, as rendered
///   PREFIX/labels       sensor_msgs/Image mono8, class ids          PREFIX/depth     sensor_msgs/Image 32FC1 metres, NaN invalid
///   PREFIX/camera_info  sensor_msgs/CameraInfo
/// and once: /tf_static (tf2_msgs/TFMessage, camera_link to camera_optical_frame per camera, latched) and /rtmtl/classes
/// (std_msgs/String of JSON: class ids, names and colours, latched). Messages are stamped with the frame's time.
/// Safety: the file is written as NAME.recording.mcap beside the target, in chunks of about a second or 4 MiB that are
/// written whole, so a kill loses at most the last chunk; a finished run adds the index and renames it to NAME.mcap.
/// </summary>
public sealed class McapRecorderSink : IFrameSink
{
    private readonly string _path, _temp;
    private readonly FileStream _file;
    private readonly McapWriter _writer;
    private readonly Camera[] _cameras;
    private readonly ushort _tf, _classes;
    private readonly LabelSet _labels;
    private readonly IEventLog _log;
    private readonly object _gate = new();
    private int _completed;
    private bool _finished, _classesWritten;
    private long _chunkOpenedTicks;

    private sealed record Camera(RosFrameMessages Messages, ushort Image, ushort Overlay, ushort Labels, ushort Depth, ushort Info)
    {
        public bool TfWritten { get; set; }

        /// <summary>One CDR buffer per topic, reused frame after frame (the camera's sink task is their only user).</summary>
        public CdrWriter ImageCdr { get; } = new();
        public CdrWriter OverlayCdr { get; } = new();
        public CdrWriter LabelsCdr { get; } = new();
        public CdrWriter DepthCdr { get; } = new();
        public CdrWriter InfoCdr { get; } = new();
    }

    /// <summary>How long a chunk stays open at most: what a kill can lose.</summary>
    public TimeSpan ChunkInterval { get; init; } = TimeSpan.FromSeconds(1);

    public string Name => "mcap";
    public bool Lossless => true;
    public string Path => _path;
    public ulong Messages { get { lock (_gate) return _writer.Messages; } }

    /// <param name="cameras">Each camera's topic prefix (rtmtl for a single camera) and frame id.</param>
    public McapRecorderSink(string path, LabelSet labels, IReadOnlyList<(string Prefix, string FrameId)> cameras, IEventLog log,
        McapCompression compression = McapCompression.Lz4)
    {
        if (cameras.Count == 0) throw new ArgumentException("an MCAP recording needs at least one camera");
        RealtimeMtl.Common.Files.OutputFile.CheckWritable(path, "--record-mcap", "out.mcap");
        _path = path;
        _labels = labels;
        _log = log;
        var ext = System.IO.Path.GetExtension(path);
        _temp = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!,
            System.IO.Path.GetFileNameWithoutExtension(path) + ".recording" + (ext.Length == 0 ? ".mcap" : ext));
        // The temporary file is this run's while it runs: an exclusive lock (flock, freed by the kernel if the process
        // dies), taken before anything is truncated, refuses a second run that names the same file.
        try { _file = new FileStream(_temp, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1 << 16); }
        catch (IOException)
        {
            throw new ArgumentException($"--record-mcap '{path}': another run is recording to it now ({System.IO.Path.GetFileName(_temp)} is "
                + $"locked); wait for it to finish or choose another file.");
        }
        _file.SetLength(0);
        _writer = new McapWriter(_file, compression: compression);
        ushort image = _writer.AddSchema(RosMessages.Image), info = _writer.AddSchema(RosMessages.CameraInfo),
            tf = _writer.AddSchema(RosMessages.TFMessage), text = _writer.AddSchema(RosMessages.String);
        _tf = _writer.AddChannel(tf, "/tf_static", latched: true);
        _classes = _writer.AddChannel(text, "/rtmtl/classes", latched: true);
        _cameras = cameras.Select(c => new Camera(new RosFrameMessages(labels, c.FrameId),
            _writer.AddChannel(image, $"/{c.Prefix}/image"), _writer.AddChannel(image, $"/{c.Prefix}/overlay"), _writer.AddChannel(image,
                $"/{c.Prefix}/labels"),
            _writer.AddChannel(image, $"/{c.Prefix}/depth"), _writer.AddChannel(info, $"/{c.Prefix}/camera_info"))).ToArray();
        _file.Flush();
    }

    /// <summary>The sink of camera <paramref name="index"/>; the file is finished when every camera's stream has ended.</summary>
    public IFrameSink CameraSink(int index) => new CameraSink(Name, true, p => Write(p, index), complete: CompleteOne);

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken) => Write(packet, 0);

    private ValueTask Write(FramePacket p, int index)
    {
        var c = _cameras[index];
        var t = FrameTime.Stamp(p.Frame).UnixNs;
        // Encoded outside the lock: cameras encode in parallel, only the file is shared.
        c.Messages.Input(p, t, c.ImageCdr);
        var overlay = c.Messages.Overlay(p, t, c.OverlayCdr);
        c.Messages.Labels(p, t, c.LabelsCdr);
        c.Messages.Depth(p, t, c.DepthCdr);
        c.Messages.CameraInfo(p, t, c.InfoCdr);
        lock (_gate)
        {
            if (_finished) return ValueTask.CompletedTask;
            if (!_classesWritten)
            {
                _writer.Write(_classes, t, new RosFrameMessages(_labels, c.Messages.FrameId).ClassMap()); _classesWritten = true;
            }
            if (!c.TfWritten) { _writer.Write(_tf, t, c.Messages.StaticTransform(t)); c.TfWritten = true; }
            if (_chunkOpenedTicks == 0) _chunkOpenedTicks = Environment.TickCount64;
            _writer.Write(c.Image, t, c.ImageCdr.Written);
            if (overlay) _writer.Write(c.Overlay, t, c.OverlayCdr.Written);
            _writer.Write(c.Labels, t, c.LabelsCdr.Written);
            _writer.Write(c.Depth, t, c.DepthCdr.Written);
            _writer.Write(c.Info, t, c.InfoCdr.Written);
            if (Environment.TickCount64 - _chunkOpenedTicks >= ChunkInterval.TotalMilliseconds) { _writer.FlushChunk(); _chunkOpenedTicks = 0; }
        }
        return ValueTask.CompletedTask;
    }

    private ValueTask CompleteOne()
    {
        if (Interlocked.Increment(ref _completed) >= _cameras.Length) Finish();
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync() => CompleteOne();

    /// <summary>Indexes the file and gives it its name. A target that exists is replaced only now, by a whole recording.</summary>
    private void Finish()
    {
        lock (_gate)
        {
            if (_finished) return;
            _finished = true;
            try
            {
                _writer.Finish();
                _file.Dispose();
                File.Move(_temp, _path, overwrite: true);
                var (raw, stored, spent) = _writer.CompressionFigures;
                _log.Info($"MCAP: {_writer.Messages} messages in {_writer.Chunks} chunks to {_path}"
                    + (_writer.Compression == McapCompression.None || raw == 0 ? "" : $" ({_writer.Compression.ToString().ToLowerInvariant()}: "
                        + $"{raw / 1e6:0.0} -> {stored / 1e6:0.0} MB, {spent.TotalMilliseconds:0} ms compressing)"));
            }
            catch (IOException e)
            {
                _file.Dispose();
                _log.Warning($"the MCAP recording could not be finished ({e.Message}); what was written is in '{_temp}' and reads up to its last " +
                    $"chunk.");
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Finish();
        _writer.Dispose();
        return ValueTask.CompletedTask;
    }
}
