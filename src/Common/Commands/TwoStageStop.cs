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
        HearInterruptWhenStartedInBackground();
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

    /// <summary>
    /// A shell starts background commands (<c>rtmtl run ... &amp;</c>, scripts, some supervisors) with SIGINT ignored,
    /// and the runtime then never hears it: <c>kill -INT</c> would do nothing until the run ends by itself. A command
    /// that offers a clean stop takes SIGINT back (to the default, which the registration below then handles).
    /// </summary>
    private static unsafe void HearInterruptWhenStartedInBackground()
    {
        if (!OperatingSystem.IsLinux()) return;
        const int SIGINT = 2;
        var current = stackalloc byte[SigactionSize];
        if (sigaction(SIGINT, null, current) != 0 || *(IntPtr*)current != SigIgn) return;
        var dfl = stackalloc byte[SigactionSize];
        new Span<byte>(dfl, SigactionSize).Clear(); // sa_handler = SIG_DFL, empty mask, no flags
        sigaction(SIGINT, dfl, null);
    }

    private const int SigactionSize = 256; // glibc's struct sigaction is 152 bytes on 64-bit Linux: room to spare
    private static readonly IntPtr SigIgn = 1;

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int sigaction(int signum, byte* act, byte* oldact);

    public void Dispose()
    {
        if (Count > 0) return;
        _int.Dispose();
        _term.Dispose();
    }
}
