using System.Text;

namespace RealtimeMtl.Common.Commands;

/// <summary>
/// Standard output that cannot be written (a full disk, /dev/full, a closed pipe) is one line on standard error and
/// exit 3, for every command, never a stack trace: <see cref="Install"/> at start, <see cref="Finish"/> with the exit code.
/// What the command does otherwise (its recordings, its other outputs) goes on and is finalised as usual.
/// </summary>
public static class StandardOutput
{
    private static GuardedWriter? _guard;

    public static void Install()
    {
        if (_guard is not null) return;
        _guard = new GuardedWriter(Console.Out);
        Console.SetOut(_guard);
    }

    /// <summary>The exit code, 3 instead of 0 when standard output failed (said once on standard error).</summary>
    public static int Finish(int code)
    {
        if (_guard is null) return code;
        try { _guard.Flush(); }
        catch (IOException) { }
        if (_guard.Failure is not { } why) return code;
        Console.Error.WriteLine($"error: standard output could not be written ({why}); the rest of the run was finished and its files kept.");
        return code == 0 ? 3 : code;
    }

    private sealed class GuardedWriter(TextWriter inner) : TextWriter
    {
        public string? Failure { get; private set; }
        public override Encoding Encoding => inner.Encoding;

        private void Guard(Action write)
        {
            if (Failure is not null) return;
            try { write(); }
            catch (IOException e) { Failure = e.Message; }
        }

        public override void Write(char value) => Guard(() => inner.Write(value));
        public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));
        public override void Write(string? value) => Guard(() => inner.Write(value));
        public override void WriteLine() => Guard(inner.WriteLine);
        public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));
        public override void Flush() => Guard(inner.Flush);
    }
}
