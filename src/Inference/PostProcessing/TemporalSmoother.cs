using OpenCvSharp;

namespace RealtimeMtl.Inference.PostProcessing;

/// <summary>
/// --smooth: temporal filtering of the model's outputs at model resolution, for a steadier picture from a steady camera.
///   Labels: hysteresis weighted by confidence. A pixel keeps its class until a different class is predicted with
///   more confidence than the kept one's (which decays by <see cref="Decay"/> each frame it is contradicted), so a
///   pixel that wavers between two classes stops flickering, while a real change wins within a few frames.
///   Depth: exponential moving average with weight <see cref="DepthAlpha"/> on the new frame.
///   Scene cuts (over <see cref="CutShare"/> of the pixels change class, or the median relative depth change exceeds
///   <see cref="CutDepth"/>): the state resets to the new frame.
/// </summary>
public sealed class TemporalSmoother
{
    public const float Decay = 0.95f, DepthAlpha = 0.35f, CutShare = 0.5f, CutDepth = 0.3f;
    private byte[] _labels = [];
    private float[] _conf = [], _depth = [];
    private float[] _scratch = [];
    private int _w, _h;

    public long Resets { get; private set; }

    /// <summary>Filters the outputs in place. <paramref name="confidence"/> may be null (then every prediction counts 1).</summary>
    public unsafe void Apply(Mat labels, Mat depth, Mat? confidence)
    {
        int w = labels.Width, h = labels.Height, n = w * h;
        var l = new Span<byte>((void*)labels.Data, n);
        var d = new Span<float>((void*)depth.Data, n);
        var c = confidence is null ? default : new Span<float>((void*)confidence.Data, n);
        if (w != _w || h != _h || _labels.Length != n)
        {
            Reset(l, d, c, w, h);
            return;
        }
        if (IsCut(l, d))
        {
            Resets++;
            Reset(l, d, c, w, h);
            return;
        }
        for (var i = 0; i < n; i++)
        {
            var conf = c.IsEmpty ? 1f : c[i];
            if (l[i] == _labels[i]) _conf[i] = Math.Max(conf, _conf[i] * Decay);
            else if (conf > _conf[i]) { _labels[i] = l[i]; _conf[i] = conf; }
            else { _conf[i] *= Decay; l[i] = _labels[i]; }
            var prev = _depth[i];
            _depth[i] = prev > 0 && d[i] > 0 ? prev + DepthAlpha * (d[i] - prev) : d[i];
            d[i] = _depth[i];
        }
    }

    private bool IsCut(Span<byte> l, Span<float> d)
    {
        // A cut is a frame-wide change: every 7th pixel tells it as well as all of them, at a seventh of the sort.
        const int Step = 7;
        int changed = 0, n = l.Length, m = 0;
        if (_scratch.Length < n / Step + 1) _scratch = new float[n / Step + 1];
        for (var i = 0; i < n; i += Step)
        {
            if (l[i] != _labels[i]) changed++;
            if (_depth[i] > 0 && d[i] > 0) _scratch[m++] = Math.Abs(d[i] - _depth[i]) / _depth[i];
        }
        n = (n + Step - 1) / Step;
        if (changed > CutShare * n) return true;
        if (m == 0) return false;
        return RealtimeMtl.Common.Measuring.Percentile.Select(_scratch.AsSpan(0, m), 0.5) > CutDepth;
    }

    private void Reset(Span<byte> l, Span<float> d, Span<float> c, int w, int h)
    {
        _w = w; _h = h;
        _labels = l.ToArray();
        _depth = d.ToArray();
        _conf = c.IsEmpty ? Enumerable.Repeat(1f, l.Length).ToArray() : c.ToArray();
    }
}
