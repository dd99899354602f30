using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using OpenCvSharp;
using RealtimeMtl.Common.Motion;
using RealtimeMtl.Pipeline.Imaging;

namespace RealtimeMtl.Inference.PostProcessing;

/// <summary>
/// --smooth flow (the default of --smooth): motion-compensated temporal fusion at model resolution, per camera.
/// The previous fused labels, their evidence and the fused log-depth are carried along the optical flow between the
/// two input frames (<see cref="MotionField"/>: DIS flow, forward-backward and photometric checks) and fused with the
/// model's new outputs where the match is trusted; elsewhere (disocclusions, new objects) the new frame is taken.
///   Labels: a running evidence margin. The kept class gains the model's confidence when predicted again and loses
///   it when another class is predicted; the other class takes over when its confidence beats the kept margin. The
///   margin decays by <see cref="Settings.Decay"/> a frame and is capped at <see cref="Settings.MaxEvidence"/>, so a
///   real change wins within a few frames.
///   Depth: a running mean in log-depth with weight <see cref="Settings.DepthWeight"/> on the new frame; a new depth
///   further than <see cref="Settings.DepthOutlier"/> (log ratio) from the carried one replaces it (robust).
/// A cut or a jump of the camera is when few pixels can be matched (<see cref="Settings.CutTrust"/>): the state
/// restarts from the new frame.
/// The motion is estimated and checked at a quarter of the model's size (<see cref="Settings.FlowLevel"/>), where DIS
/// computes it; each cell's flow and trust serve its 4x4 pixels, each of which is fused only where its grey matches the
/// grey it is carried from (<see cref="Settings.PixelTolerance"/>), so a cell across a motion boundary does not drag the
/// other side's labels over it.
/// </summary>
public sealed class FlowFusion
{
    /// <summary>The fusion's weights; the defaults were chosen with bench/smoothing.sh on the synthetic walks and
    /// turns (docs/smoothing.md).</summary>
    public sealed record Settings
    {
        public float Decay { get; init; } = 0.97f;
        public float MaxEvidence { get; init; } = 4f;
        public float DepthWeight { get; init; } = 0.4f;
        public float DepthOutlier { get; init; } = 0.3f;
        public double CutTrust { get; init; } = 0.3;
        public float PhotometricTolerance { get; init; } = MotionField.DefaultPhotometricTolerance;
        /// <summary>DIS's Gauss-Newton steps per patch at most (a patch stops once its step is below 0.01 pixel), and its
        /// patch stride (pixels of the level it works on). 8 steps, chosen on seeds 1 to 3 of the synthetic walks and turns
        /// against 4, 6 and 10, follow fast turns better and keep the fusion under 2 ms a frame (docs/smoothing.md).</summary>
        public int FlowIterations { get; init; } = 8;
        public int FlowStride { get; init; } = 4;
        /// <summary>The pyramid level the motion is estimated and checked at (2: a quarter of the model's size, 64x48 for
        /// the light model; 1, half size, follows motion boundaries a little better at twice the cost).</summary>
        public int FlowLevel { get; init; } = 2;
        /// <summary>The forward-backward test's slack, in model pixels squared (Sundaram et al.'s 0.5 is strict at a
        /// quarter size, where a cell's flow is a mean over 4x4 model pixels).</summary>
        public float ForwardBackwardSlack { get; init; } = 2f;
        /// <summary>At model resolution, a trusted cell's pixel is fused only where the grey it is carried from differs
        /// from its own by at most this many levels (0..255; 255 turns the check off): where a cell straddles a motion
        /// boundary, its pixels that moved otherwise take the new frame.</summary>
        public float PixelTolerance { get; init; } = 25f;
        /// <summary>On a moving camera (the cell's flow over half a model pixel), a pixel on an edge of the model's new
        /// labels carries this share of its evidence: the model places a boundary in the current frame better than a flow
        /// at a quarter of its size can carry it there (1 turns this off).</summary>
        public float EdgeWeight { get; init; } = 0.8f;
        /// <summary>The camera's own motion (MotionField.ExtendWithCameraMotion) carries the pixels DIS left untrusted when
        /// at least this share of the trusted matches follows one smooth motion (above 1 turns it off). Chosen, with
        /// <see cref="CameraInlier"/>, on seeds 1 to 3 of the synthetic walks and turns (docs/smoothing.md).</summary>
        public float CameraMotionShare { get; init; } = 0.6f;
        /// <summary>How far (pixels at the motion's level) a match may be from the camera's motion and still follow it.</summary>
        public float CameraInlier { get; init; } = 0.3f;
        /// <summary>The photometric tolerance (grey levels) of a pixel carried by the camera's motion alone.</summary>
        public float CameraTolerance { get; init; } = 8f;
        /// <summary>Fuses every pixel alone, never the four of a cell in one vector (for the test that both agree).</summary>
        internal bool PixelByPixel { get; init; }

        /// <summary>The defaults, or the weights that RTMTL_FUSION names (for tuning with bench/smoothing.sh:
        /// <c>decay=0.97,max=4,depth=0.4,outlier=0.3,cut=0.3,photo=24,iterations=8,stride=4,level=2,fb=2,pixel=25,edge=0.8,camera=0.6,</c>
        /// <c>inlier=0.3,ctol=8</c>).</summary>
        public static Settings FromEnvironment()
        {
            var s = new Settings();
            if (Environment.GetEnvironmentVariable("RTMTL_FUSION") is not { Length: > 0 } text) return s;
            foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var kv = part.Split('=', 2);
                if (kv.Length != 2
                    || !float.TryParse(kv[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v))
                    throw new ArgumentException($"RTMTL_FUSION '{part}' is not name=number");
                s = kv[0] switch
                {
                    "decay" => s with { Decay = v },
                    "max" => s with { MaxEvidence = v },
                    "depth" => s with { DepthWeight = v },
                    "outlier" => s with { DepthOutlier = v },
                    "cut" => s with { CutTrust = v },
                    "photo" => s with { PhotometricTolerance = v },
                    "iterations" => s with { FlowIterations = (int)v },
                    "stride" => s with { FlowStride = (int)v },
                    "level" => s with { FlowLevel = (int)v },
                    "pixel" => s with { PixelTolerance = v },
                    "fb" => s with { ForwardBackwardSlack = v },
                    "edge" => s with { EdgeWeight = v },
                    "camera" => s with { CameraMotionShare = v },
                    "inlier" => s with { CameraInlier = v },
                    "ctol" => s with { CameraTolerance = v },
                    _ => throw new ArgumentException(
                        $"RTMTL_FUSION '{kv[0]}' is unknown: decay, max, depth, outlier, cut, photo, iterations, stride, level, fb, pixel, edge, "
                        + "camera, inlier, ctol"),
                };
            }
            return s;
        }
    }

    private readonly Settings _s;
    private readonly DisFlow _flow;
    private MotionField _motion;
    private GrayPyramid _current = new(), _previous = new();
    private readonly Mat _small = new(), _grayFull = new(), _reduced = new(), _modelGray = new();
    private byte[] _gray = [], _labels = [], _labelsNext = [], _pixels = [], _pixelsBefore = [], _edges = [];
    private float[] _evidence = [], _evidenceNext = [], _logDepth = [], _logDepthNext = [], _logNew = [];
    private int _w, _h, _levels;

    public FlowFusion(Settings? settings = null)
    {
        _s = settings ?? Settings.FromEnvironment();
        _flow = new DisFlow(stride: _s.FlowStride, iterations: _s.FlowIterations, finestLevel: _s.FlowLevel);
        _motion = new MotionField(_flow, _s.PhotometricTolerance, _flow.FinestLevel, _s.ForwardBackwardSlack);
    }

    /// <summary>Frames on which the state restarted because the flow found too little to match (cuts, jumps).</summary>
    public long Resets { get; private set; }

    /// <summary>The last frame's grey at the model's size (what each pixel's check compares).</summary>
    internal ReadOnlySpan<byte> ModelGray => _pixels;

    /// <summary>The last frame's share of trusted matches.</summary>
    public double TrustedShare => _motion.TrustedShare;

    /// <summary>Fuses the model's outputs in place. <paramref name="image"/> is the input frame (BGR, any size);
    /// <paramref name="confidence"/> may be null (then every prediction counts 1).</summary>
    public unsafe void Apply(Mat image, Mat labels, Mat depth, Mat? confidence)
    {
        int w = labels.Width, h = labels.Height, n = w * h;
        var l = new Span<byte>((void*)labels.Data, n);
        var d = new Span<float>((void*)depth.Data, n);
        var c = confidence is null ? default : new Span<float>((void*)confidence.Data, n);
        (_current, _previous) = (_previous, _current);
        var fresh = w != _w || h != _h;
        if (fresh)
        {
            _w = w; _h = h; _levels = GrayPyramid.LevelsFor(w, h, 8);
            _gray = new byte[n]; _pixels = new byte[n]; _pixelsBefore = new byte[n]; _edges = new byte[n];
            _labels = new byte[n]; _labelsNext = new byte[n];
            _evidence = new float[n]; _evidenceNext = new float[n]; _logDepth = new float[n]; _logDepthNext = new float[n];
            _logNew = new float[n];
            // The motion is estimated at the flow's finest level; a model too small for it to have one uses its own size.
            var at = Math.Min(_flow.FinestLevel, _levels - 1);
            if (_motion.Level != at) _motion = new MotionField(_flow, _s.PhotometricTolerance, at, _s.ForwardBackwardSlack);
        }
        var level = _motion.Level;
        (_pixels, _pixelsBefore) = (_pixelsBefore, _pixels);
        Gray(image, w >> level, h >> level, w, h);
        _current.Fill(_gray, w, h, _levels, level);
        LogDepth(d, _logNew);
        if (!fresh) _motion.Estimate(_current, _previous);
        // A cut is judged on what DIS alone matched, before the camera's motion extends it.
        var cut = !fresh && _motion.TrustedShare < _s.CutTrust;
        if (fresh || cut)
        {
            if (cut) Resets++;
            l.CopyTo(_labels);
            if (c.IsEmpty) _evidence.AsSpan().Fill(1f); else c.CopyTo(_evidence);
            _logNew.AsSpan().CopyTo(_logDepth);
            return;
        }
        if (_s.CameraMotionShare <= 1f)
            _motion.ExtendWithCameraMotion(_current, _previous, _s.CameraMotionShare, _s.CameraInlier, _s.CameraTolerance);
        Fuse(l, c, w, h);
        ExpInto(_logDepthNext, d);
        (_labels, _labelsNext) = (_labelsNext, _labels);
        (_evidence, _evidenceNext) = (_evidenceNext, _evidence);
        (_logDepth, _logDepthNext) = (_logDepthNext, _logDepth);
    }

    private unsafe void Fuse(Span<byte> labelsSpan, Span<float> confidence, int w, int h)
    {
        int shift = _motion.Level, mw = _motion.Width, mh = _motion.Height;
        var scale = (float)(1 << shift);
        var n = w * h;
        // Untrusted pixels take the new frame: start from it, then fuse the trusted ones.
        labelsSpan.CopyTo(_labelsNext);
        if (_s.EdgeWeight < 1f) Edges(labelsSpan, _edges, w, h);
        if (confidence.IsEmpty) _evidenceNext.AsSpan(0, n).Fill(1f); else confidence.CopyTo(_evidenceNext);
        _logNew.AsSpan(0, n).CopyTo(_logDepthNext);
        var state = new State
        {
            Decay = _s.Decay, MaxEvidence = _s.MaxEvidence, DepthWeight = _s.DepthWeight, Outlier = _s.DepthOutlier, W = w, H = h,
            PixelTolerance = (int)_s.PixelTolerance,
        };
        fixed (byte* l = labelsSpan, trusted = _motion.Trusted, kept = _labels, labelsNext = _labelsNext)
        fixed (float* fx = _motion.FlowX, fy = _motion.FlowY, ev = _evidence, evNext = _evidenceNext, zOld = _logDepth, zNext = _logDepthNext)
        fixed (float* zNew = _logNew)
        fixed (byte* grayNew = _pixels, grayOld = _pixelsBefore, edges = _edges)
        {
            state.Gray = grayNew; state.GrayBefore = grayOld; state.Edges = edges; state.EdgeWeight = _s.EdgeWeight;
            state.Labels = l; state.Kept = kept; state.LabelsNext = labelsNext; state.Evidence = ev; state.EvidenceNext = evNext;
            state.LogDepth = zOld; state.LogDepthNext = zNext; state.LogNew = zNew;
            for (var y = 0; y < h; y++)
            {
                var row = Math.Min(y >> shift, mh - 1) * mw;
                for (var x = 0; x < w;)
                {
                    var k = row + Math.Min(x >> shift, mw - 1);
                    // The pixels of this cell of the motion field share its flow.
                    var end = k == row + mw - 1 ? w : Math.Min(w, ((x >> shift) + 1) << shift);
                    if (trusted[k] == 0) { x = end; continue; }
                    float dx = scale * fx[k], dy = scale * fy[k];
                    var py = Math.Clamp(y + dy, 0, h - 1);
                    var moving = dx * dx + dy * dy > 0.25f;
                    if (end - x == 4 && !_s.PixelByPixel && state.Cell4(x, y, dx, dy, moving)) { x = end; continue; }
                    for (; x < end; x++) state.Pixel(x, y, Math.Clamp(x + dx, 0, w - 1), py, moving);
                }
            }
        }
    }

    /// <summary>Marks (255) each pixel whose label differs from one of its four neighbours' (an edge of the model's labels).
    /// 32 pixels a step inside the image, one at a time along its border.</summary>
    private static unsafe void Edges(ReadOnlySpan<byte> labels, Span<byte> edges, int w, int h)
    {
        fixed (byte* l = labels, e = edges)
        {
            for (var y = 0; y < h; y++)
            {
                var x = 0;
                if (y > 0 && y + 1 < h && Vector256.IsHardwareAccelerated)
                {
                    // Interior: the left neighbour of x = 1 and the right one of the vector's last lane exist.
                    for (x = 1; x + 32 < w; x += 32)
                    {
                        var i = y * w + x;
                        var c = Vector256.Load(l + i);
                        var differs = ~Vector256.Equals(Vector256.Load(l + i - 1), c) | ~Vector256.Equals(Vector256.Load(l + i + 1), c)
                            | ~Vector256.Equals(Vector256.Load(l + i - w), c) | ~Vector256.Equals(Vector256.Load(l + i + w), c);
                        differs.Store(e + i);
                    }
                    // The first pixel of the row, then the rest one at a time.
                    e[y * w] = Edge(l, 0, y, w, h);
                }
                for (; x < w; x++) e[y * w + x] = Edge(l, x, y, w, h);
            }
        }
    }

    private static unsafe byte Edge(byte* l, int x, int y, int w, int h)
    {
        var i = y * w + x;
        var f = l[i];
        return (x > 0 && l[i - 1] != f) || (x + 1 < w && l[i + 1] != f) || (y > 0 && l[i - w] != f) || (y + 1 < h && l[i + w] != f)
            ? (byte)255 : (byte)0;
    }

    /// <summary>The fusion's arrays, pinned, and its weights, for <see cref="Pixel"/>.</summary>
    private unsafe struct State
    {
        public byte* Labels, Kept, LabelsNext, Gray, GrayBefore, Edges;
        public float EdgeWeight;
        public float* Evidence, EvidenceNext, LogDepth, LogDepthNext, LogNew;
        public float Decay, MaxEvidence, DepthWeight, Outlier;
        public int W, H, PixelTolerance;

        /// <summary>One trusted pixel (x, y): its label and evidence against those carried from (px, py), and its log-depth
        /// against the carried one (bilinear where all four neighbours have depth, else the nearest).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Pixel(int x, int y, float px, float py, bool moving)
        {
            var i = y * W + x;
            var j = (int)(py + 0.5f) * W + (int)(px + 0.5f);
            if (Math.Abs(Gray[i] - GrayBefore[j]) > PixelTolerance) return;
            var conf = EvidenceNext[i];
            var label = Labels[i];
            var carriedLabel = Kept[j];
            var carried = Decay * Evidence[j];
            if (moving && EdgeWeight < 1f)
            {
                if (Edges[i] != 0) carried *= EdgeWeight;
            }
            float evidence;
            if (carriedLabel == label) evidence = Math.Min(MaxEvidence, carried + conf);
            else if (conf > carried) evidence = conf - carried;
            else { label = carriedLabel; evidence = carried - conf; }
            LabelsNext[i] = label; EvidenceNext[i] = evidence; Labels[i] = label;
            var zw = LogDepth[j];
            int x0 = (int)px, y0 = (int)py;
            if (x0 + 1 < W && y0 + 1 < H)
            {
                var o = LogDepth + y0 * W + x0;
                float a = o[0], b = o[1], e = o[W], f = o[W + 1];
                if (!float.IsNaN(a + b + e + f))
                {
                    float ax = px - x0, ay = py - y0;
                    var top = a + ax * (b - a);
                    zw = top + ay * (e + ax * (f - e) - top);
                }
            }
            var z = LogNew[i];
            if (Math.Abs(z - zw) < Outlier) LogDepthNext[i] = zw + DepthWeight * (z - zw);
        }

        /// <summary><see cref="Pixel"/> for the four pixels x..x+3 of row y that share one cell's flow, in one Vector128 each
        /// (same operations, so the same results). False, and nothing written, where a lane would be clamped or round to
        /// another source than its neighbour's plus one; the caller then goes pixel by pixel.</summary>
        public readonly bool Cell4(int x, int y, float dx, float dy, bool moving)
        {
            if (!Vector128.IsHardwareAccelerated || x + 4 > W) return false;
            float py = y + dy;
            if (!(py >= 0f && py < H - 1)) return false;
            var px = (Vector128.Create((float)x) + Lane) + Vector128.Create(dx);
            if (!(px.GetElement(0) >= 0f) || !(px.GetElement(3) < W - 1)) return false;
            // The nearest source (Pixel's j) and the bilinear corner must be consecutive across the four lanes.
            var near = Vector128.ConvertToInt32(px + Vector128.Create(0.5f));
            var floor = Vector128.ConvertToInt32(px);
            var n0 = near.ToScalar(); var f0 = floor.ToScalar();
            if (near != Vector128.Create(n0) + LaneInt || floor != Vector128.Create(f0) + LaneInt) return false;
            int ny = (int)(py + 0.5f), y0 = (int)py;
            var i = y * W + x; var j = ny * W + n0;
            var tolerance = Vector128.Create(PixelTolerance);
            var close = Vector128.LessThanOrEqual(Vector128.Abs(Bytes4(Gray + i) - Bytes4(GrayBefore + j)), tolerance);
            if (close == Vector128<int>.Zero) return true;
            var keep = close.AsSingle();
            var conf = Vector128.Load(EvidenceNext + i);
            var label = Bytes4(Labels + i);
            var carriedLabel = Bytes4(Kept + j);
            var carried = Vector128.Create(Decay) * Vector128.Load(Evidence + j);
            if (moving && EdgeWeight < 1f)
            {
                var edge = ~Vector128.Equals(Bytes4(Edges + i), Vector128<int>.Zero);
                carried = Vector128.ConditionalSelect(edge.AsSingle(), carried * Vector128.Create(EdgeWeight), carried);
            }
            var same = Vector128.Equals(carriedLabel, label).AsSingle();
            var take = Vector128.GreaterThan(conf, carried);
            var evidence = Vector128.ConditionalSelect(same, Vector128.Min(Vector128.Create(MaxEvidence), carried + conf),
                Vector128.ConditionalSelect(take, conf - carried, carried - conf));
            var fused = Vector128.ConditionalSelect(same | take, label.AsSingle(), carriedLabel.AsSingle()).AsInt32();
            fused = Vector128.ConditionalSelect(close, fused, label);
            var narrow = Vector128.Narrow(Vector128.Narrow(fused, fused), Vector128<short>.Zero).AsUInt32().ToScalar();
            Unsafe.WriteUnaligned(LabelsNext + i, narrow);
            Unsafe.WriteUnaligned(Labels + i, narrow);
            Vector128.ConditionalSelect(keep, evidence, conf).Store(EvidenceNext + i);
            // Depth: bilinear where all four neighbours have depth (the same corner for every lane), else the nearest.
            var o = LogDepth + y0 * W + f0;
            Vector128<float> a = Vector128.Load(o), b = Vector128.Load(o + 1), e = Vector128.Load(o + W), g = Vector128.Load(o + W + 1);
            var ax = px - Vector128.ConvertToSingle(floor);
            var ay = Vector128.Create(py - y0);
            var top = a + ax * (b - a);
            var bilinear = top + ay * (e + ax * (g - e) - top);
            var sum = a + b + e + g;
            var zw = Vector128.ConditionalSelect(Vector128.Equals(sum, sum), bilinear, Vector128.Load(LogDepth + j));
            var z = Vector128.Load(LogNew + i);
            var write = keep & Vector128.LessThan(Vector128.Abs(z - zw), Vector128.Create(Outlier));
            var next = Vector128.Load(LogDepthNext + i);
            Vector128.ConditionalSelect(write, zw + Vector128.Create(DepthWeight) * (z - zw), next).Store(LogDepthNext + i);
            return true;
        }

        private static readonly Vector128<float> Lane = Vector128.Create(0f, 1f, 2f, 3f);
        private static readonly Vector128<int> LaneInt = Vector128.Create(0, 1, 2, 3);

        /// <summary>Four bytes as four int lanes.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static Vector128<int> Bytes4(byte* p) =>
            Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(p)).AsByte())).AsInt32();
    }

    /// <summary>log(depth), NaN where the depth is not positive and finite.</summary>
    private static void LogDepth(ReadOnlySpan<float> depth, Span<float> log)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var d = ref MemoryMarshal.GetReference(depth);
            ref var o = ref MemoryMarshal.GetReference(log);
            var nan = Vector256.Create(float.NaN);
            var inf = Vector256.Create(float.PositiveInfinity);
            for (; i <= depth.Length - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref d, (nuint)i);
                var valid = Vector256.GreaterThan(v, Vector256<float>.Zero) & Vector256.LessThan(v, inf);
                Vector256.ConditionalSelect(valid, Vector256.Log(v), nan).StoreUnsafe(ref o, (nuint)i);
            }
        }
        for (; i < depth.Length; i++) log[i] = depth[i] > 0 && float.IsFinite(depth[i]) ? MathF.Log(depth[i]) : float.NaN;
    }

    /// <summary>depth = exp(log) where the fused log-depth is a number; elsewhere the model's depth stays.</summary>
    private static void ExpInto(ReadOnlySpan<float> log, Span<float> depth)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var z = ref MemoryMarshal.GetReference(log);
            ref var d = ref MemoryMarshal.GetReference(depth);
            for (; i <= depth.Length - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref z, (nuint)i);
                var number = Vector256.Equals(v, v);
                Vector256.ConditionalSelect(number, Vector256.Exp(v), Vector256.LoadUnsafe(ref d, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < depth.Length; i++)
            if (!float.IsNaN(log[i])) depth[i] = MathF.Exp(log[i]);
    }

    /// <summary>The input frame grey (ITU-R BT.601 weights) at the model's size, into <c>_pixels</c> (for the check per pixel),
    /// and from it at <paramref name="w"/> x <paramref name="h"/> (the size the motion is estimated at) into <c>_gray</c>.
    /// Converted at the frame's own size (cheaper than three channels through a resize), then area-resized by the largest
    /// whole factor that divides the frame and the model's size allows (OpenCV's fast path: 640x480 to 320x240), then
    /// bilinear by the fraction left where it is under 2 (there bilinear averages about as much as the area filter, whose
    /// general path cost 0.2 ms a frame more; with more left, bilinear would alias and the area filter is kept), then
    /// area-resized by 2^level (whole again).</summary>
    private unsafe void Gray(Mat image, int w, int h, int modelW, int modelH)
    {
        var gray = image;
        if (image.Channels() != 1)
        {
            CvNative.CvtColor(image, _grayFull, image.Channels() == 4 ? ColorConversionCodes.BGRA2GRAY : ColorConversionCodes.BGR2GRAY);
            gray = _grayFull;
        }
        int gw = gray.Width, gh = gray.Height;
        var k = Math.Min(gw / modelW, gh / modelH);
        while (k >= 2 && (gw % k != 0 || gh % k != 0)) k--;
        if (k >= 2)
        {
            (gw, gh) = (gw / k, gh / k);
            CvNative.Resize(gray, _reduced, new Size(gw, gh), InterpolationFlags.Area);
            gray = _reduced;
        }
        if (gw != modelW || gh != modelH)
        {
            // Bilinear only where under 2 is left both ways (1280x720: 640x360 is left 2.5 wide, so the area filter).
            var bilinear = gw < 2 * modelW && gh < 2 * modelH;
            CvNative.Resize(gray, _modelGray, new Size(modelW, modelH), bilinear ? InterpolationFlags.Linear : InterpolationFlags.Area);
            gray = _modelGray;
        }
        var ms = (int)gray.Step();
        for (var y = 0; y < modelH; y++)
            new ReadOnlySpan<byte>((byte*)gray.Data + y * ms, modelW).CopyTo(_pixels.AsSpan(y * modelW, modelW));
        CvNative.Resize(gray, _small, new Size(w, h), InterpolationFlags.Area);
        var step = (int)_small.Step();
        for (var y = 0; y < h; y++) new ReadOnlySpan<byte>((byte*)_small.Data + y * step, w).CopyTo(_gray.AsSpan(y * w, w));
    }
}
