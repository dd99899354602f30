using OpenCvSharp;
using RealtimeMtl.Pipeline.Frames;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// A frame on its way through the pipeline: the captured frame, the prediction at frame size, the rendered image and
/// the stage timestamps. Shared by several sinks, so it is reference counted: the last <see cref="Release"/> disposes
/// the frame and returns the packet, with its Mats and their buffers, to its pool (or disposes them, unpooled).
/// </summary>
public sealed class FramePacket
{
    private static long _live, _overReleased, _changedShared;
    private int _refs;
    private int? _sealed;
    private SemaphoreSlim? _gate;
    private bool _blamed;
    private Frame? _frame;
    private readonly FramePacketPool? _pool;

    /// <summary>An unpooled packet (tests, tools): its Mats are disposed with it.</summary>
    public FramePacket(Frame frame) : this((FramePacketPool?)null) => Reset(frame);

    internal FramePacket(FramePacketPool? pool) => _pool = pool;

    internal void Reset(Frame frame)
    {
        _frame = frame;
        _refs = 1;
        Rendered = null;
        _sealed = null;
        _blamed = false;
        InferStartTicks = InferEndTicks = RenderEndTicks = 0;
        SetId = -1;
        SetSize = 0;
        SetSpreadNs = 0;
        PreMs = ModelMs = PostMs = 0;
        Interlocked.Increment(ref _live);
    }

    /// <summary>Packets handed out and not yet released: flat in a healthy run, 0 after it.</summary>
    public static long Live => Interlocked.Read(ref _live);

    public Frame Frame => _frame ?? throw new ObjectDisposedException(nameof(FramePacket));
    public long Sequence => Frame.Sequence;

    /// <summary>Predicted class per pixel at frame size (CV_8UC1), nearest-upsampled.</summary>
    public Mat Labels { get; } = new();

    /// <summary>Predicted depth in metres at frame size (CV_32FC1), bilinear-upsampled.</summary>
    public Mat Depth { get; } = new();

    /// <summary>Max softmax probability at frame size (CV_32FC1), when the model gives it (kept, empty, otherwise).</summary>
    public Mat? Confidence { get; set; }

    /// <summary>The image the render stage draws into (its buffer is reused by the next frame of the same size).</summary>
    public Mat RenderTarget { get; } = new();

    /// <summary>The annotated image the render stage drew, BGR (<see cref="RenderTarget"/> once drawn).</summary>
    public Mat? Rendered { get; set; }

    public long CaptureTicks => Frame.TimestampTicks;

    /// <summary>With --sync-ms: the synchronised set this frame belongs to (-1: none), its size and the spread of its stamps.</summary>
    public long SetId { get; internal set; } = -1;
    public int SetSize { get; internal set; }
    public long SetSpreadNs { get; internal set; }
    public long InferStartTicks { get; internal set; }
    public long InferEndTicks { get; internal set; }
    public long RenderEndTicks { get; internal set; }
    public double PreMs { get; internal set; }
    public double ModelMs { get; internal set; }
    public double PostMs { get; internal set; }

    /// <summary>
    /// Whether a release past zero throws. On in debug builds and in the tests (the AppContext switch
    /// <c>RealtimeMtl.StrictPacketRelease</c>, which tests/Directory.Build.targets sets); off in a release build, where
    /// it is counted in <see cref="OverReleased"/> instead, so one stale release never takes a run down.
    /// </summary>
    public static bool StrictRelease { get; set; } =
#if DEBUG
        true;
#else
        AppContext.TryGetSwitch("RealtimeMtl.StrictPacketRelease", out var strict) && strict;
#endif

    /// <summary>Releases past zero (a stale release; it would otherwise recycle a packet that another frame now uses).</summary>
    public static long OverReleased => Interlocked.Read(ref _overReleased);

    /// <summary>
    /// Whether the sink fan-out checks that no sink changes a shared packet: a digest of the frame, the prediction and
    /// the rendered image is taken when the packet is handed to the sinks, and compared after each sink's write and
    /// at the last release. On in debug builds and in the tests (the AppContext switch
    /// <c>RealtimeMtl.CheckSharedPackets</c>); off in a release build, where hashing every frame would cost time.
    /// </summary>
    public static bool CheckSharedWrites { get; set; } =
#if DEBUG
        true;
#else
        AppContext.TryGetSwitch("RealtimeMtl.CheckSharedPackets", out var check) && check;
#endif

    /// <summary>Packets found changed at their last release after they were shared (checked only with <see cref="CheckSharedWrites"/>).</summary>
    public static long ChangedWhileShared => Interlocked.Read(ref _changedShared);

    /// <summary>Takes the digest that <see cref="ChangedSinceSealed"/> compares with (the fan-out calls it before sharing).</summary>
    internal void Seal() => _sealed ??= Digest();

    /// <summary>With the check on, sinks write one at a time per packet, so a change is blamed on the sink that made it.</summary>
    internal SemaphoreSlim SinkGate => LazyInitializer.EnsureInitialized(ref _gate, () => new SemaphoreSlim(1, 1));

    /// <summary>A sink was found changing this packet (reported as that sink's failure, not again at release).</summary>
    internal void Blame() => _blamed = true;

    /// <summary>Whether the packet's pixels differ from when it was sealed (false when it never was).</summary>
    internal bool ChangedSinceSealed() => _sealed is { } d && Digest() != d;

    private int Digest()
    {
        var h = new HashCode();
        Add(ref h, Frame.Image);
        Add(ref h, Labels);
        Add(ref h, Depth);
        if (Confidence is { } c) Add(ref h, c);
        if (Rendered is { } r) Add(ref h, r);
        return h.ToHashCode();
    }

    private static unsafe void Add(ref HashCode h, Mat m)
    {
        if (m.IsDisposed || m.Empty()) { h.Add(0); return; }
        int rows = m.Rows, cols = m.Cols;
        h.Add(rows);
        h.Add(cols);
        var rowBytes = checked((int)(cols * m.ElemSize()));
        for (var y = 0; y < rows; y++) h.AddBytes(new ReadOnlySpan<byte>((void*)m.Ptr(y), rowBytes));
    }

    public void AddRef() => Interlocked.Increment(ref _refs);

    public void Release()
    {
        var refs = Interlocked.Decrement(ref _refs);
        if (refs < 0)
        {
            Interlocked.Increment(ref _refs);
            Interlocked.Increment(ref _overReleased);
            if (StrictRelease) throw new InvalidOperationException("a FramePacket was released more often than it was referenced: a stale Release " +
                "would recycle another frame's packet");
            return;
        }
        if (refs != 0) return;
        Interlocked.Decrement(ref _live);
        if (CheckSharedWrites && !_blamed && ChangedSinceSealed()) Interlocked.Increment(ref _changedShared);
        _frame?.Dispose();
        _frame = null;
        if (Rendered is { } r && !ReferenceEquals(r, RenderTarget)) r.Dispose();
        Rendered = null;
        if (_pool is null || !_pool.Return(this)) DisposeMats();
    }

    internal void DisposeMats()
    {
        Labels.Dispose();
        Depth.Dispose();
        Confidence?.Dispose();
        RenderTarget.Dispose();
    }
}
