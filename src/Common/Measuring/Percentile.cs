namespace RealtimeMtl.Common.Measuring;

/// <summary>
/// The one percentile rule in rtmtl: nearest rank, without interpolation. The q-quantile (0 &lt;= q &lt;= 1) of n
/// values is the value of rank ceil(q·n) in ascending order (1-based), so index ceil(q·n) − 1, clamped to [0, n − 1].
/// The median (q = 0.5) of an even count is the lower of the two middle values. Every figure reported (latency
/// p50/p95/p99, depth percentiles, medians of timings) is therefore a value that was measured.
/// </summary>
public static class Percentile
{
    /// <summary>The 0-based index of the q-quantile among <paramref name="n"/> sorted values.</summary>
    public static int Index(int n, double q)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), "no values");
        // The small tolerance keeps q·n that should be whole (0.95 × 20) from rounding up past it.
        return Math.Clamp((int)Math.Ceiling(q * n - 1e-9) - 1, 0, n - 1);
    }

    /// <summary>The q-quantile of values already sorted ascending; NaN when there are none.</summary>
    public static double OfSorted(ReadOnlySpan<double> sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Index(sorted.Length, q)];

    /// <inheritdoc cref="OfSorted(ReadOnlySpan{double}, double)"/>
    public static float OfSorted(ReadOnlySpan<float> sorted, double q) => sorted.Length == 0 ? float.NaN : sorted[Index(sorted.Length, q)];

    /// <summary>Sorts <paramref name="values"/> in place and returns its q-quantile (NaN when empty).</summary>
    public static double Of(List<double> values, double q)
    {
        values.Sort();
        return OfSorted(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values), q);
    }

    /// <summary>
    /// The q-quantile by selection, in linear time, reordering <paramref name="values"/> in place (everything before
    /// the returned index is no larger, everything after no smaller). NaN when empty.
    /// </summary>
    public static float Select(Span<float> values, double q) => values.Length == 0 ? float.NaN : SelectKth(values, Index(values.Length, q));

    /// <summary>The k-th smallest value (0-based), by Hoare's selection with a median-of-three pivot; reorders the span.</summary>
    public static float SelectKth(Span<float> values, int k)
    {
        int left = 0, right = values.Length - 1;
        while (left < right)
        {
            var mid = left + (right - left) / 2;
            if (values[mid] < values[left]) (values[mid], values[left]) = (values[left], values[mid]);
            if (values[right] < values[left]) (values[right], values[left]) = (values[left], values[right]);
            if (values[right] < values[mid]) (values[right], values[mid]) = (values[mid], values[right]);
            var pivot = values[mid];
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j) { (values[i], values[j]) = (values[j], values[i]); i++; j--; }
            }
            if (k <= j) right = j;
            else if (k >= i) left = i;
            else return values[k];
        }
        return values[k];
    }
}
