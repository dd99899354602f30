using System.Runtime.InteropServices;
using Google.Protobuf;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Feed;

/// <summary>One frame's outputs copied out of the pipeline once, shared by every subscriber.</summary>
public sealed class FeedPayload
{
    private FeedFrame? _metres, _millimetres;

    public required ulong Sequence { get; init; }
    /// <summary>The engine's wall clock when the frame arrived.</summary>
    public required long ReceiveUnixNs { get; init; }
    /// <summary>The header stamp: the sensor's time where known, else <see cref="ReceiveUnixNs"/>.</summary>
    public long StampUnixNs { get; init; }
    public bool StampFromSensor { get; init; }
    public string FrameId { get; init; } = "camera_optical_frame";
    public double MediaTimeSeconds { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required byte[] Labels { get; init; }
    public required float[] Depth { get; init; }
    public float[]? Confidence { get; init; }
    public byte[]? ImageJpeg { get; init; }
    public RealtimeMtl.Pipeline.Frames.CameraIntrinsics? Intrinsics { get; init; }
    public required IReadOnlyList<ClassDepthStats> Classes { get; init; }
    /// <summary>The camera's name, in a run of several cameras (empty for one).</summary>
    public string Camera { get; init; } = "";
    /// <summary>With --sync-ms: the set this frame belongs to (-1: none), its size and its stamp spread.</summary>
    public long SetId { get; init; } = -1;
    public int SetSize { get; init; }
    public long SetSpreadNs { get; init; }

    public static unsafe FeedPayload From(FramePacket p, LabelSet labels, string frameId, bool image, string camera = "")
    {
        int w = p.Frame.Width, h = p.Frame.Height, n = w * h;
        var lab = new byte[n];
        var dep = new float[n];
        Marshal.Copy(p.Labels.Data, lab, 0, n);
        Marshal.Copy(p.Depth.Data, dep, 0, n);
        float[]? conf = null;
        if (p.Confidence is { } c) { conf = new float[n]; Marshal.Copy(c.Data, conf, 0, n); }
        byte[]? jpeg = null;
        if (image) OpenCvSharp.Cv2.ImEncode(".jpg", p.Frame.Image, out jpeg, new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.JpegQuality,
            90));
        var (stamp, sensor) = FrameTime.Stamp(p.Frame);
        return new FeedPayload
        {
            Sequence = (ulong)p.Sequence, ReceiveUnixNs = FrameTime.ReceiveUnixNs(p.CaptureTicks), StampUnixNs = stamp, StampFromSensor = sensor,
            FrameId = frameId, MediaTimeSeconds = p.Frame.MediaTimeSeconds ?? 0,
            Width = w, Height = h, Labels = lab, Depth = dep, Confidence = conf, ImageJpeg = jpeg,
            Intrinsics = p.Frame.Intrinsics?.ScaledTo(w, h),
            Classes = ClassStats(lab, dep, labels),
            Camera = camera, SetId = p.SetId, SetSize = p.SetSize, SetSpreadNs = p.SetSpreadNs,
        };
    }

    /// <summary>sensor_msgs/CameraInfo of <paramref name="k"/>: D, K, R (identity), P.</summary>
    public static CameraInfo Info(RealtimeMtl.Pipeline.Frames.CameraIntrinsics k) => new()
    {
        Width = (uint)k.Width, Height = (uint)k.Height, DistortionModel = k.DistortionModel,
        D = { k.DistortionOrZeros }, K = { k.K }, R = { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, P = { k.P },
    };

    /// <summary>Per class present: pixel share, robust nearest (2nd percentile) and median predicted depth.</summary>
    public static List<ClassDepthStats> ClassStats(byte[] labels, float[] depth, LabelSet set)
    {
        var counts = new ClassStatistics(set.Count);
        counts.Add(labels);
        var perClass = new List<float>?[set.Count];
        for (var i = 0; i < labels.Length; i++)
        {
            var l = labels[i];
            if (l >= set.Count) continue;
            (perClass[l] ??= []).Add(depth[i]);
        }
        var result = new List<ClassDepthStats>();
        for (var c = 0; c < set.Count; c++)
        {
            var list = perClass[c];
            if (list is null) continue;
            var share = (float)counts.Share(c);
            var valid = list.Where(v => v > 0 && float.IsFinite(v)).ToArray();
            Array.Sort(valid);
            result.Add(new ClassDepthStats
            {
                ClassId = (uint)c, PixelShare = share,
                NearestM = valid.Length == 0 ? 0 : RealtimeMtl.Common.Measuring.Percentile.OfSorted(valid, 0.02),
                MedianM = valid.Length == 0 ? 0 : RealtimeMtl.Common.Measuring.Percentile.OfSorted(valid, 0.5),
            });
        }
        return result;
    }

    /// <summary>
    /// The message for one subscriber: shared and cached per depth encoding; confidence, image and camera info
    /// (first frame, or a changed camera) go into a copy only for the subscribers that get them.
    /// </summary>
    public FeedFrame ToMessage(DepthEncoding encoding, bool confidence, bool image = false, bool cameraInfo = false)
    {
        var cached = encoding == DepthEncoding.DepthUint16Millimetres ? _millimetres : _metres;
        var m = cached ?? Build(encoding);
        if (encoding == DepthEncoding.DepthUint16Millimetres) _millimetres = m; else _metres = m;
        var withConf = confidence && Confidence is not null;
        var withImage = image && ImageJpeg is not null;
        var withInfo = cameraInfo && Intrinsics is not null;
        if (!withConf && !withImage && !withInfo) return m;
        var copy = m.Clone();
        if (withConf) copy.Confidence = ByteString.CopyFrom(MemoryMarshal.AsBytes(Confidence.AsSpan()));
        if (withImage) copy.ImageJpeg = ByteString.CopyFrom(ImageJpeg);
        if (withInfo) copy.CameraInfo = Info(Intrinsics!);
        return copy;
    }

    private FeedFrame Build(DepthEncoding encoding)
    {
        var m = new FeedFrame
        {
            Sequence = Sequence, ReceiveTimeUnixNs = ReceiveUnixNs, Width = (uint)Width, Height = (uint)Height,
            Labels = ByteString.CopyFrom(Labels), DepthEncoding = encoding, MediaTimeS = MediaTimeSeconds,
            Header = new Header
            {
                FrameId = FrameId, StampUnixNs = StampUnixNs, StampSource = StampFromSensor ? StampSource.StampSensor
                : StampSource.StampReceive
            },
            Camera = Camera,
        };
        if (encoding == DepthEncoding.DepthUint16Millimetres)
        {
            var mm = new ushort[Depth.Length];
            for (var i = 0; i < mm.Length; i++) mm[i] = Depth[i] > 0 && float.IsFinite(Depth[i]) ? (ushort)Math.Min(65535, Math.Round(Depth[i]
                * 1000)) : (ushort)0;
            m.Depth = ByteString.CopyFrom(MemoryMarshal.AsBytes(mm.AsSpan()));
        }
        else
        {
            // REP 118: invalid float depth is NaN (the uint16 millimetre encoding keeps 0).
            var metres = new float[Depth.Length];
            for (var i = 0; i < metres.Length; i++) metres[i] = Depth[i] > 0 && float.IsFinite(Depth[i]) ? Depth[i] : float.NaN;
            m.Depth = ByteString.CopyFrom(MemoryMarshal.AsBytes(metres.AsSpan()));
        }
        if (Intrinsics is { } k) m.Intrinsics = new Feed.CameraIntrinsics { Fx = k.Fx, Fy = k.Fy, Cx = k.Cx, Cy = k.Cy };
        m.Classes.AddRange(Classes);
        return m;
    }
}
