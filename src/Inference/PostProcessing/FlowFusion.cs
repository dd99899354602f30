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
/// </summary>
public sealed class FlowFusion
{
    /// <summary>The fusion's weights; the defaults were chosen with bench/smoothing.sh on the synthetic walks and
    /// turns (docs/smoothing.md).</summary>
    public sealed record Settings
    {
        public float Decay { get; init; } = 0.95f;
        public float MaxEvidence { get; init; } = 4f;
        public float DepthWeight { get; init; } = 0.3f;
        public float DepthOutlier { get; init; } = 0.2f;
        public double CutTrust { get; init; } = 0.3;
        public float PhotometricTolerance { get; init; } = MotionField.DefaultPhotometricTolerance;

        /// <summary>The defaults, or the weights that RTMTL_FUSION names (for tuning with bench/smoothing.sh:
        /// <c>decay=0.95,max=4,depth=0.3,outlier=0.2,cut=0.3,photo=24</c>).</summary>
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
                    _ => throw new ArgumentException($"RTMTL_FUSION '{kv[0]}' is unknown: decay, max, depth, outlier, cut, photo"),
                };
            }
            return s;
        }
    }

    private readonly Settings _s;
    private readonly MotionField _motion;
    private GrayPyramid _current = new(), _previous = new();
    private readonly Mat _small = new();
    private byte[] _gray = [], _labels = [], _labelsNext = [];
    private float[] _evidence = [], _evidenceNext = [], _logDepth = [], _logDepthNext = [];
    private int _w, _h, _levels;

    public FlowFusion(Settings? settings = null)
    {
        _s = settings ?? Settings.FromEnvironment();
        _motion = new MotionField(new DisFlow(), _s.PhotometricTolerance);
    }

    /// <summary>Frames on which the state restarted because the flow found too little to match (cuts, jumps).</summary>
    public long Resets { get; private set; }

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
            _gray = new byte[n]; _labels = new byte[n]; _labelsNext = new byte[n];
            _evidence = new float[n]; _evidenceNext = new float[n]; _logDepth = new float[n]; _logDepthNext = new float[n];
        }
        Gray(image, w, h);
        _current.Fill(_gray, w, h, _levels);
        if (!fresh) _motion.Estimate(_current, _previous);
        if (fresh || _motion.TrustedShare < _s.CutTrust)
        {
            if (!fresh) Resets++;
            for (var i = 0; i < n; i++)
            {
                _labels[i] = l[i];
                _evidence[i] = c.IsEmpty ? 1f : c[i];
                _logDepth[i] = d[i] > 0 && float.IsFinite(d[i]) ? MathF.Log(d[i]) : float.NaN;
            }
            return;
        }
        Fuse(l, d, c, w, h);
        (_labels, _labelsNext) = (_labelsNext, _labels);
        (_evidence, _evidenceNext) = (_evidenceNext, _evidence);
        (_logDepth, _logDepthNext) = (_logDepthNext, _logDepth);
    }

    private void Fuse(Span<byte> l, Span<float> d, Span<float> c, int w, int h)
    {
        float[] fx = _motion.FlowX, fy = _motion.FlowY;
        var trusted = _motion.Trusted;
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                var conf = c.IsEmpty ? 1f : c[i];
                var z = d[i] > 0 && float.IsFinite(d[i]) ? MathF.Log(d[i]) : float.NaN;
                byte label = l[i];
                float evidence = conf, fused = z;
                if (trusted[i] != 0)
                {
                    float px = x + fx[i], py = y + fy[i];
                    var j = (int)(py + 0.5f) * w + (int)(px + 0.5f);
                    var kept = _labels[j];
                    var carried = _s.Decay * _evidence[j];
                    if (kept == label) evidence = Math.Min(_s.MaxEvidence, carried + conf);
                    else if (conf > carried) evidence = conf - carried;
                    else { label = kept; evidence = carried - conf; }
                    var zw = CarriedLogDepth(px, py, w, h, j);
                    if (!float.IsNaN(z) && !float.IsNaN(zw) && Math.Abs(z - zw) < _s.DepthOutlier)
                        fused = zw + _s.DepthWeight * (z - zw);
                }
                _labelsNext[i] = label; _evidenceNext[i] = evidence; _logDepthNext[i] = fused;
                l[i] = label;
                if (!float.IsNaN(fused)) d[i] = MathF.Exp(fused);
            }
    }

    /// <summary>Bilinear in log-depth where all four neighbours have depth, else the nearest one.</summary>
    private float CarriedLogDepth(float px, float py, int w, int h, int nearest)
    {
        int x0 = (int)px, y0 = (int)py;
        if (x0 + 1 >= w || y0 + 1 >= h) return _logDepth[nearest];
        int o = y0 * w + x0;
        float a = _logDepth[o], b = _logDepth[o + 1], e = _logDepth[o + w], f = _logDepth[o + w + 1];
        if (float.IsNaN(a) || float.IsNaN(b) || float.IsNaN(e) || float.IsNaN(f)) return _logDepth[nearest];
        float ax = px - x0, ay = py - y0;
        var top = a + ax * (b - a);
        return top + ay * (e + ax * (f - e) - top);
    }

    /// <summary>The input frame at model size, grey (ITU-R BT.601 weights), into <c>_gray</c>.</summary>
    private unsafe void Gray(Mat image, int w, int h)
    {
        CvNative.Resize(image, _small, new Size(w, h), InterpolationFlags.Area);
        var channels = _small.Channels();
        var p = (byte*)_small.Data;
        var step = (int)_small.Step();
        for (var y = 0; y < h; y++)
        {
            var row = p + y * step;
            for (var x = 0; x < w; x++)
            {
                if (channels == 1) { _gray[y * w + x] = row[x]; continue; }
                var px = row + x * channels;
                _gray[y * w + x] = (byte)((29 * px[0] + 150 * px[1] + 77 * px[2] + 128) >> 8);
            }
        }
    }
}
