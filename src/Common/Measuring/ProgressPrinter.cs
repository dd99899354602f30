using System.Diagnostics;

namespace RealtimeMtl.Common.Measuring;

/// <summary>
/// The one way long work shows progress (engine runs, training, evaluation, downloads): on a terminal the line is
/// redrawn in place at most 4 times a second; when stderr is a file or a pipe, a plain line at most every
/// <see cref="PlainEvery"/> (and the last one always), so logs stay readable. Nothing is shown for work that ends
/// within <see cref="Quiet"/>. Another message in between ends the line first (<see cref="Interrupt"/>).
/// </summary>
public sealed class ProgressPrinter(TextWriter output, bool? terminal = null)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _terminal = terminal ?? !Console.IsErrorRedirected;
    private readonly Lock _gate = new();
    private TimeSpan _last = TimeSpan.FromDays(-1);
    private bool _open;

    /// <summary>How long work may run before progress appears at all.</summary>
    public TimeSpan Quiet { get; init; } = TimeSpan.Zero;

    /// <summary>Interval between plain lines when the output is not a terminal.</summary>
    public TimeSpan PlainEvery { get; init; } = TimeSpan.FromSeconds(10);

    public bool IsTerminal => _terminal;

    /// <summary>Shows <paramref name="line"/> if it is time to; <paramref name="final"/> always shows it (the last step).</summary>
    public void Show(Func<string> line, bool final = false)
    {
        lock (_gate)
        {
            var now = _clock.Elapsed;
            if (now < Quiet && !final) return;
            if (!final && now - _last < (_terminal ? TimeSpan.FromMilliseconds(250) : PlainEvery)) return;
            _last = now;
            if (_terminal)
            {
                output.Write("\r" + line() + "   ");
                _open = true;
            }
            else output.WriteLine(line());
        }
    }

    /// <summary>Ends a line being redrawn, so that the next message starts on its own line.</summary>
    public void Interrupt()
    {
        lock (_gate)
        {
            if (!_open) return;
            output.WriteLine();
            _open = false;
        }
    }

    /// <summary>The work is over: end the line.</summary>
    public void Done() => Interrupt();
}
