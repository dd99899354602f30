namespace RealtimeMtl.Quality;

/// <summary>
/// Depth errors pooled over every valid pixel seen (ground truth finite and &gt; 0), as the NYUD-v2 literature
/// reports them: RMSE, log RMSE (natural log), mean absolute relative error and the share with
/// max(pred/gt, gt/pred) &lt; 1.25. Predictions are floored at <see cref="MinDepth"/> for the log and ratio terms.
/// </summary>
public sealed class DepthMetrics
{
    public const double MinDepth = 1e-3;
    private double _sumSq, _sumLogSq, _sumAbsRel;
    private long _delta1;

    public long Pixels { get; private set; }

    public void Add(ReadOnlySpan<float> truth, ReadOnlySpan<float> predicted)
    {
        if (truth.Length != predicted.Length) throw new ArgumentException("truth and prediction differ in size");
        for (var i = 0; i < truth.Length; i++)
        {
            double t = truth[i];
            if (!(t > 0) || double.IsInfinity(t)) continue;
            double p = predicted[i];
            if (double.IsNaN(p)) p = MinDepth;
            var e = p - t;
            _sumSq += e * e;
            var pc = Math.Max(p, MinDepth);
            var le = Math.Log(pc) - Math.Log(t);
            _sumLogSq += le * le;
            _sumAbsRel += Math.Abs(e) / t;
            if (Math.Max(pc / t, t / pc) < 1.25) _delta1++;
            Pixels++;
        }
    }

    public void Merge(DepthMetrics o)
    {
        _sumSq += o._sumSq; _sumLogSq += o._sumLogSq; _sumAbsRel += o._sumAbsRel; _delta1 += o._delta1; Pixels += o.Pixels;
    }

    public double Rmse => Pixels == 0 ? double.NaN : Math.Sqrt(_sumSq / Pixels);
    public double LogRmse => Pixels == 0 ? double.NaN : Math.Sqrt(_sumLogSq / Pixels);
    public double AbsRel => Pixels == 0 ? double.NaN : _sumAbsRel / Pixels;
    public double Delta1 => Pixels == 0 ? double.NaN : (double)_delta1 / Pixels;
}
