namespace RealtimeMtl.Training.Native;

/// <summary>What the known-answer child process reported: passed, gave wrong results, or died (and by which signal).</summary>
public sealed record KnownAnswerOutcome(bool Passed, bool Crashed, int ExitCode, string Detail)
{
    public static KnownAnswerOutcome Pass(string detail) => new(true, false, 0, detail);
}
