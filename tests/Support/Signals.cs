using System.Runtime.InteropServices;

namespace RealtimeMtl.Tests.Support;

/// <summary>POSIX signals to a process, as a user's Ctrl+C, a service manager's SIGTERM or the kernel's SIGKILL.</summary>
public static partial class Signals
{
    public const int SIGINT = 2, SIGKILL = 9, SIGTERM = 15, SIGCONT = 18, SIGSTOP = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends the signal; false when the process is gone (nothing to signal).</summary>
    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>Sends the signal to the process group <paramref name="leader"/> leads, as a terminal's Ctrl+C does.</summary>
    public static bool SendGroup(int leader, int signal) => Kill(-leader, signal) == 0;

    /// <summary>Sends the signal, or throws naming the process and the error.</summary>
    public static void Require(int pid, int signal)
    {
        if (Kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
