using System.Diagnostics;

namespace RealtimeMtl.Common.Commands;

/// <summary>
/// Helper programs (ffmpeg encoding a recording, ffmpeg reading a stream) run in a session of their own, so a Ctrl+C
/// at the terminal, which the terminal sends to the whole foreground process group, reaches rtmtl alone: rtmtl then
/// drains and finishes its helpers itself (a recording's encoder is closed cleanly, never killed mid-file). Without
/// util-linux's setsid they start as usual.
/// </summary>
public static class ChildProcesses
{
    private static readonly string? Setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <summary>A start for <paramref name="exe"/> with <paramref name="args"/>, in its own session where possible.</summary>
    public static ProcessStartInfo OwnSession(string exe, string args) =>
        Setsid is null ? new ProcessStartInfo(exe, args) : new ProcessStartInfo(Setsid, $"\"{exe}\" {args}");
}
