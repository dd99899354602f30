using System.Runtime.InteropServices;
using Google.Protobuf;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Capture.Labels;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Serving.Feed;

/// <summary>One frame's outputs copied out of the pipeline once, shared by every subscriber.</summary>
public sealed class FeedPayload
{
    private FeedFrame? _metres, _millimetres;

    public required ulong Sequence { get; init; }
    public required long CaptureUnixNs { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required byte[] Labels { get; init; }
    public required float[] Depth { get; init; }
    public float[]? Confidence { get; init; }
    public Capture.Frames.CameraIntrinsics? Intrinsics { get; init; }
    public required IReadOnlyList<ClassDepthStats> Classes { get; init; }
    public required IReadOnlyList<string> ClassNames { get; init; }

    public static unsafe FeedPayload From(FramePacket p, LabelSet labels, long unixNs)
    {
        int w = p.Frame.Width, h = p.Frame.Height, n = w * h;
        var lab = new byte[n];
        var dep = new float[n];
        Marshal.Copy(p.Labels.Data, lab, 0, n);
        Marshal.Copy(p.Depth.Data, dep, 0, n);
        float[]? conf = null;
        if (p.Confidence is { } c) { conf = new float[n]; Marshal.Copy(c.Data, conf, 0, n); }
        return new FeedPayload
        {
            Sequence = (ulong)p.Sequence, CaptureUnixNs = unixNs, Width = w, Height = h, Labels = lab, Depth = dep, Confidence = conf,
            Intrinsics = p.Frame.Intrinsics is { } k ? (k.Width == w && k.Height == h ? k : k.ScaledTo(w, h)) : null,
            Classes = ClassStats(lab, dep, labels), ClassNames = labels.Classes,
        };
    }

    /// <summary>Per class present: pixel share, robust nearest (2nd percentile) and median predicted depth.</summary>
    public static List<ClassDepthStats> ClassStats(byte[] labels, float[] depth, LabelSet set)
    {
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
            var share = (float)list.Count / labels.Length;
            var valid = list.Where(v => v > 0 && float.IsFinite(v)).ToArray();
            Array.Sort(valid);
            result.Add(new ClassDepthStats
            {
                ClassId = (uint)c, Name = set.Classes[c], PixelShare = share,
                NearestM = valid.Length == 0 ? 0 : valid[(int)(0.02 * (valid.Length - 1))],
                MedianM = valid.Length == 0 ? 0 : valid[(valid.Length - 1) / 2],
            });
        }
        return result;
    }

    public FeedFrame ToMessage(DepthEncoding encoding, bool confidence)
    {
        var cached = encoding == DepthEncoding.DepthUint16Millimetres ? _millimetres : _metres;
        var m = cached ?? Build(encoding);
        if (encoding == DepthEncoding.DepthUint16Millimetres) _millimetres = m; else _metres = m;
        if (!confidence || Confidence is null) return m;
        var withConf = m.Clone();
        withConf.Confidence = ByteString.CopyFrom(MemoryMarshal.AsBytes(Confidence.AsSpan()));
        return withConf;
    }

    private FeedFrame Build(DepthEncoding encoding)
    {
        var m = new FeedFrame
        {
            Sequence = Sequence, CaptureTimeUnixNs = CaptureUnixNs, Width = (uint)Width, Height = (uint)Height,
            Labels = ByteString.CopyFrom(Labels), DepthEncoding = encoding,
        };
        if (encoding == DepthEncoding.DepthUint16Millimetres)
        {
            var mm = new ushort[Depth.Length];
            for (var i = 0; i < mm.Length; i++) mm[i] = Depth[i] > 0 && float.IsFinite(Depth[i]) ? (ushort)Math.Min(65535, Math.Round(Depth[i] * 1000)) : (ushort)0;
            m.Depth = ByteString.CopyFrom(MemoryMarshal.AsBytes(mm.AsSpan()));
        }
        else
        {
            // REP 118: invalid float depth is NaN (the uint16 millimetre encoding keeps 0).
            var metres = new float[Depth.Length];
            for (var i = 0; i < metres.Length; i++) metres[i] = Depth[i] > 0 && float.IsFinite(Depth[i]) ? Depth[i] : float.NaN;
            m.Depth = ByteString.CopyFrom(MemoryMarshal.AsBytes(metres.AsSpan()));
        }
        m.ClassNames.AddRange(ClassNames);
        if (Intrinsics is { } k) m.Intrinsics = new Feed.CameraIntrinsics { Fx = k.Fx, Fy = k.Fy, Cx = k.Cx, Cy = k.Cy };
        m.Classes.AddRange(Classes);
        return m;
    }
}
