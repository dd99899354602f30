using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using OpenCvSharp;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Common.Ros;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Ros2.Dds;

namespace RealtimeMtl.Ros2.Capture;

/// <summary>
/// A ROS 2 camera topic as a live source (<c>--source ros2:/camera/image_raw</c>). A reader thread takes every message
/// as it arrives and keeps the newest frame (the pipeline drops the oldest as for any live camera). Each frame keeps the
/// camera's stamp and frame id, so what the engine publishes lines up with the robot's TF and message_filters.
/// Companions: camera_info (intrinsics, the newest), depth (paired by stamp: exactly, or within 10 ms, waiting up to
/// 100 ms for it). No image for 2 s or 5 frame intervals is an outage, said once; "back" when frames return; after the
/// give-up time the source fails.
/// </summary>
public sealed class Ros2Source : IFrameSource
{
    private static readonly long PairWithinNs = 10_000_000;
    private static readonly TimeSpan PairWait = TimeSpan.FromMilliseconds(100);

    private readonly Ros2SourceSpec _spec;
    private readonly IEventLog _events;
    private readonly DdsParticipant _participant;
    private readonly DdsReader _image;
    private readonly DdsReader? _info, _depth;
    private readonly Channel<Frame> _frames;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _dropped, _unpaired;
    private CameraIntrinsics? _intrinsics;
    private Exception? _failure;

    public Ros2Source(Ros2SourceSpec spec, IEventLog events)
    {
        CycloneDds.EnsureAvailable($"--source {Ros2SourceSpec.Prefix}{spec.ImageTopic}");
        _spec = spec;
        _events = events;
        // The newest frames wait here; an older one pushed out is disposed and counted.
        _frames = Channel.CreateBounded<Frame>(new BoundedChannelOptions(2)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true,
        }, f => { f.Dispose(); Interlocked.Increment(ref _dropped); });
        _participant = new DdsParticipant();
        var qos = spec.Reliable ? DdsQos.ReliableData with { Depth = 10 } : DdsQos.SensorData with { Depth = 10 };
        _image = _participant.Reader(spec.ImageTopic, spec.Compressed ? RosMessages.CompressedImage.Name : RosMessages.Image.Name, qos);
        if (spec.InfoTopic is { } info) _info = _participant.Reader(info, RosMessages.CameraInfo.Name, qos);
        if (spec.DepthTopic is { } depth) _depth = _participant.Reader(depth, RosMessages.Image.Name, qos with { Depth = 30 });
        _thread = new Thread(ReadLoop) { IsBackground = true, Name = $"ros2 {spec.ImageTopic}" };
        _thread.Start();
    }

    public string Description => $"ROS 2 topic {_spec.ImageTopic}{(_spec.DepthTopic is null ? "" : $" with depth {_spec.DepthTopic}")}";
    public bool IsLive => true;
    public double? NominalFps { get; private set; }
    public long? FrameCount => null;
    public long DroppedInternally => Interlocked.Read(ref _dropped);

    /// <summary>Images that came without a depth of the same stamp in time (RGB-D sources).</summary>
    public long Unpaired => Interlocked.Read(ref _unpaired);

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stop = cancellationToken.Register(() => _stop.Cancel());
        while (true)
        {
            Frame frame;
            try
            {
                if (!await _frames.Reader.WaitToReadAsync(cancellationToken)) break;
                if (!_frames.Reader.TryRead(out frame!)) continue;
            }
            catch (OperationCanceledException) { yield break; }
            yield return frame;
        }
        if (_failure is not null) throw _failure;
    }

    private void ReadLoop()
    {
        long sequence = 0;
        var lastFrame = Stopwatch.GetTimestamp();
        var started = lastFrame;
        var down = false;
        double? interval = null;
        long? lastStamp = null, lastArrival = null;
        var pending = new Queue<(RosHeader Header, Mat Image, long Arrived)>();
        var depths = new List<(long Stamp, Mat Metres)>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                _image.Wait(TimeSpan.FromMilliseconds(50));
                TakeInfo();
                TakeDepth(depths);
                while (_image.TryTake(out var cdr, out _))
                {
                    var (header, image) = Decode(cdr);
                    var now = Stopwatch.GetTimestamp();
                    pending.Enqueue((header, image, now));
                    // The rate as the images arrive (a camera's stamps may be anything): the outage rule and the recording's rate.
                    if (lastArrival is { } prev)
                    {
                        var dt = Stopwatch.GetElapsedTime(prev, now).TotalSeconds;
                        interval = interval is { } i ? 0.9 * i + 0.1 * dt : dt;
                        NominalFps ??= dt > 0 ? Math.Round(1 / dt, 2) : null;
                    }
                    lastArrival = now;
                    lastStamp = header.UnixNs;
                }
                // Hand on the images whose depth came, or that waited long enough (or have a newer image behind them).
                while (pending.Count > 0)
                {
                    var (header, image, arrived) = pending.Peek();
                    Mat? depth = null;
                    if (_depth is not null)
                    {
                        var match = depths.FindIndex(d => Math.Abs(d.Stamp - header.UnixNs) <= PairWithinNs);
                        if (match < 0 && pending.Count == 1 && Stopwatch.GetElapsedTime(arrived) < PairWait) break;
                        if (match >= 0) { depth = depths[match].Metres; depths.RemoveAt(match); }
                        else Interlocked.Increment(ref _unpaired);
                    }
                    pending.Dequeue();
                    var frame = new Frame(sequence++, arrived, image)
                    {
                        SensorTimeUnixNs = header.UnixNs, FrameId = header.FrameId.Length > 0 ? header.FrameId : null,
                        Depth = depth, Intrinsics = _intrinsics is { } k && k.Width == image.Width && k.Height == image.Height ? k : null,
                        NominalFps = NominalFps,
                    };
                    if (!_frames.Writer.TryWrite(frame)) frame.Dispose();
                    lastFrame = Stopwatch.GetTimestamp();
                    if (down)
                    {
                        _events.Warning($"ROS 2 topic {_spec.ImageTopic} back after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
                        down = false;
                    }
                }
                // Depth that no image will claim any more (older than the newest image by far) is let go.
                if (lastStamp is { } newest)
                    depths.RemoveAll(d =>
                    {
                        var old = d.Stamp < newest - 1_000_000_000;
                        if (old) d.Metres.Dispose();
                        return old;
                    });
                var quiet = Stopwatch.GetElapsedTime(lastFrame);
                var outage = TimeSpan.FromSeconds(Math.Max(2, 5 * (interval ?? 0)));
                if (!down && quiet > outage)
                {
                    down = true;
                    started = lastFrame;
                    var publishers = _image.Publishers;
                    _events.Warning(sequence == 0
                        ? $"ROS 2 topic {_spec.ImageTopic}: no image yet after {quiet.TotalSeconds:0.0} s ({(publishers == 0 ? "no publisher found: "
                            + "check the topic name, ROS_DOMAIN_ID and CYCLONEDDS_URI" : $"{publishers} publisher(s) matched, sending "
                                + $"nothing")}); waiting"
                        : $"ROS 2 topic {_spec.ImageTopic}: no image for {quiet.TotalSeconds:0.0} s after frame {sequence} ({publishers} "
                            + $"publisher(s) left); waiting for it to come back");
                }
                if (quiet > _spec.GiveUpAfter)
                    throw new SourceException($"ROS 2 topic {_spec.ImageTopic} has sent nothing for {_spec.GiveUpAfter.TotalSeconds:0} s; check the "
                        + $"camera node and start again.");
            }
        }
        catch (Exception e) when (e is SourceException or FormatException)
        {
            _failure = e is SourceException ? e : new SourceException($"ROS 2 topic {_spec.ImageTopic}: {e.Message}", e);
        }
        finally
        {
            foreach (var p in pending) p.Image.Dispose();
            foreach (var d in depths) d.Metres.Dispose();
            _frames.Writer.TryComplete();
        }
    }

    private (RosHeader, Mat) Decode(byte[] cdr)
    {
        if (_spec.Compressed)
        {
            var c = RosMessageReader.CompressedImage(cdr);
            var image = Cv2.ImDecode(c.Data, ImreadModes.Color);
            if (image.Empty())
            {
                image.Dispose(); throw new SourceException($"ROS 2 topic {_spec.ImageTopic}: a CompressedImage ({c.Format}) did "
                + $"not decode; jpeg and png are read.");
            }
            return (c.Header, image);
        }
        var m = RosMessageReader.Image(cdr);
        return (m.Header, RosImages.ToBgr(m, _spec.ImageTopic));
    }

    private void TakeInfo()
    {
        if (_info is null) return;
        while (_info.TryTake(out var cdr, out _))
        {
            var i = RosMessageReader.CameraInfo(cdr);
            if (i.K.Length != 9 || i.K[0] <= 0 || i.K[4] <= 0 || i.Width <= 0 || i.Height <= 0) continue;
            _intrinsics = new CameraIntrinsics(i.K[0], i.K[4], i.K[2], i.K[5], i.Width, i.Height)
            {
                Distortion = i.D, Rectification = i.R.Any(v => v != 0) ? i.R : null, Projection = i.P.Any(v => v != 0) ? i.P : null,
            };
        }
    }

    private void TakeDepth(List<(long Stamp, Mat Metres)> depths)
    {
        if (_depth is null) return;
        while (_depth.TryTake(out var cdr, out _))
        {
            var m = RosMessageReader.Image(cdr);
            depths.Add((m.Header.UnixNs, RosImages.ToMetres(m, _spec.DepthTopic!)));
            if (depths.Count > 60) { depths[0].Metres.Dispose(); depths.RemoveAt(0); }
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(2));
        while (_frames.Reader.TryRead(out var f)) f.Dispose();
        // The participant leaves: the camera node sees its subscriber gone at once.
        _participant.Dispose();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
