using System.Runtime.InteropServices;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Quality;

/// <summary>
/// Label-free quality on footage, as a sink of the engine (rtmtl eval --video): on a static camera a good model is
/// steady. Per frame, at frame size: the share of pixels whose class changed since the previous frame (flicker), the
/// median relative depth change, the class histogram and a sample of depths for percentiles.
/// </summary>
public sealed class StabilitySink(IReadOnlyList<string> classes) : IFrameSink
{
    private byte[] _prevLabels = [];
    private float[] _prevDepth = [], _rel = [];
    private readonly long[] _counts = new long[256];
    private readonly List<double> _flicker = [], _depthChange = [];
    private readonly List<float> _depthSample = [];

    public string Name => "stability";

    /// <summary>Reads labels and depth, never the drawn picture.</summary>

    public bool UsesPicture => false;
    public bool Lossless => true;
    public int Frames { get; private set; }

    public unsafe ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        var n = packet.Labels.Rows * packet.Labels.Cols;
        var labels = new ReadOnlySpan<byte>((void*)packet.Labels.Data, n);
        var depth = new ReadOnlySpan<float>((void*)packet.Depth.Data, n);
        if (Frames > 0 && _prevLabels.Length == n)
        {
            int changed = 0, m = 0;
            for (var i = 0; i < n; i++)
            {
                if (labels[i] != _prevLabels[i]) changed++;
                if (_prevDepth[i] > 0 && depth[i] > 0) _rel[m++] = Math.Abs(depth[i] - _prevDepth[i]) / _prevDepth[i];
            }
            _flicker.Add((double)changed / n);
            if (m > 0) _depthChange.Add(Percentile.Select(_rel.AsSpan(0, m), 0.5));
        }
        if (_prevLabels.Length != n) { _prevLabels = new byte[n]; _prevDepth = new float[n]; _rel = new float[n]; }
        for (var i = 0; i < n; i++) _counts[labels[i]]++;
        for (var i = 0; i < n; i += 97) if (depth[i] > 0 && float.IsFinite(depth[i])) _depthSample.Add(depth[i]);
        labels.CopyTo(_prevLabels);
        depth.CopyTo(_prevDepth);
        Frames++;
        return ValueTask.CompletedTask;
    }

    /// <summary>The figures so far: mean flicker, median depth change, class shares, depth percentiles p5..p95 (metres).</summary>
    public (double Flicker, double DepthChange, Dictionary<string, double> Shares, Dictionary<string, double> DepthPercentiles) Figures()
    {
        var total = (double)_counts.Sum();
        var shares = classes.Select((name, i) => (name, share: total == 0 ? 0 : _counts[i] / total)).ToDictionary(x => x.name, x => Math.Round(x.share, 5));
        _depthSample.Sort();
        double P(double q) => _depthSample.Count == 0 ? double.NaN : Percentile.OfSorted(CollectionsMarshal.AsSpan(_depthSample), q);
        return (_flicker.Count == 0 ? double.NaN : _flicker.Average(), _depthChange.Count == 0 ? double.NaN : Percentile.Of(_depthChange, 0.5), shares,
            new Dictionary<string, double> { ["p5"] = P(0.05), ["p25"] = P(0.25), ["p50"] = P(0.5), ["p75"] = P(0.75), ["p95"] = P(0.95) });
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
