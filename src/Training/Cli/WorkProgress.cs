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
    private TimeSpan _last = TimeSpan.FromSeconds(-1);
    private bool _shown;

    public void Report(int done)
    {
        var now = _clock.Elapsed;
        if (now < TimeSpan.FromSeconds(1)) return;
        var interval = Console.IsErrorRedirected ? TimeSpan.FromSeconds(10) : TimeSpan.FromMilliseconds(250);
        if (now - _last < interval && done < total) return;
        _last = now;
        var eta = done > 0 ? now.TotalSeconds / done * (total - done) : 0;
        var line = string.Create(CultureInfo.InvariantCulture, $"{what} {done}/{total} ({100.0 * done / total:0} %), ETA {Pipeline.Metrics.ProgressLine.Eta(eta)}");
        if (Console.IsErrorRedirected) Console.Error.WriteLine(line);
        else { Console.Error.Write("\r" + line + "   "); _shown = true; }
    }

    public void Done()
    {
        if (_shown) Console.Error.WriteLine();
        _shown = false;
    }
}
