using System.Runtime.InteropServices;

namespace RealtimeMtl.Common.Commands;

/// <summary>
/// Ctrl+C and SIGTERM as every rtmtl command treats them: the first asks the work to stop cleanly (one line saying
/// what happens, then <c>onFirst</c>); the second exits at once with 130 and the words "forced exit". After a first
/// signal the handlers stay registered until the process ends, so a second Ctrl+C during the shutdown is still
/// answered by the same words, never by the runtime's silent default.
/// </summary>
public sealed class TwoStageStop : IDisposable
{
    private readonly TextWriter _errors;
    private readonly string _firstMessage;
    private readonly Action _onFirst;
    private readonly PosixSignalRegistration _int, _term;
    private int _count;

    public TwoStageStop(TextWriter errors, string firstMessage, Action onFirst)
    {
        _errors = errors;
        _firstMessage = firstMessage;
        _onFirst = onFirst;
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Signals received so far.</summary>
    public int Count => Volatile.Read(ref _count);

    private void OnSignal(PosixSignalContext ctx)
    {
        ctx.Cancel = true;
        if (Interlocked.Increment(ref _count) == 1)
        {
            _errors.WriteLine(_firstMessage);
            _onFirst();
        }
        else
        {
            _errors.WriteLine("forced exit");
            Environment.Exit(130);
        }
    }

    public void Dispose()
    {
        if (Count > 0) return;
        _int.Dispose();
        _term.Dispose();
    }
}
