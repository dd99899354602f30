using System.Diagnostics;
using System.Globalization;

namespace RealtimeMtl.Training.Cli;

/// <summary>
/// "evaluating 37/200 (18 %), ETA 0:42" on stderr: redrawn in place on a terminal at most 4 times a second,
/// one line every 10 s when stderr is a file, nothing for work that ends within a second.
/// </summary>
internal sealed class WorkProgress(string what, int total)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly RealtimeMtl.Common.Measuring.ProgressPrinter _printer = new(Console.Error) { Quiet = TimeSpan.FromSeconds(1) };

    public void Report(int done) => _printer.Show(() =>
    {
        var eta = done > 0 ? _clock.Elapsed.TotalSeconds / done * (total - done) : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"{what} {done}/{total} ({100.0 * done / total:0} %), ETA {RealtimeMtl.Common.Measuring.ProgressLine.Eta(eta)}");
    }, final: done >= total && _clock.Elapsed >= TimeSpan.FromSeconds(1));

    public void Done() => _printer.Done();
}
