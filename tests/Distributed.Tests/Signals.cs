using System.Runtime.InteropServices;

namespace RealtimeMtl.Distributed.Tests;

internal static partial class Signals
{
    public const int SIGKILL = 9, SIGTERM = 15, SIGINT = 2;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
