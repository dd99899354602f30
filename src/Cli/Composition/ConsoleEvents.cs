using RealtimeMtl.Common.Logging;
using RealtimeMtl.Common.Measuring;
using RealtimeMtl.Pipeline.Metrics;

namespace RealtimeMtl.Cli.Composition;

/// <summary>The engine's messages on a terminal: warnings always, the rest unless --quiet, and a live progress line.</summary>
internal sealed class ConsoleEvents(TextWriter errors, bool quiet) : IEventLog
{
    // The live line is for a person at a terminal; a log file gets the summary, not a line a second.
    private readonly ProgressPrinter _progress = new(errors);
    public void Warning(string message) { EndProgress(); errors.WriteLine($"warning: {message}"); }
    public void Info(string message) { if (!quiet) { EndProgress(); errors.WriteLine(message); } }

    public void Progress(IReadOnlyList<PipelineStats> all, long? total)
    {
        if (!_progress.IsTerminal) return;
        _progress.Show(() => ProgressLine.Format(all.Sum(s => s.FramesOut), total, all.Sum(s => s.RecentFps), all.Max(s => s.EndToEnd.Last),
            all.Sum(s => s.DroppedAtSource)));
    }

    public void EndProgress() => _progress.Interrupt();
}
