namespace RealtimeMtl.Common.Logging;

/// <summary>
/// The one logging abstraction of the engine, rtmtl-train and the worker: what a person running them should read
/// (a warning, or a line of information), never a trace. Sources, stages, sinks, the model, the trainer and the
/// worker all take one; the command lines give <see cref="TextEventLog"/> on standard error, tests collect lines.
/// Why our own two-method interface and not Microsoft.Extensions.Logging: every message here is a user-facing line
/// with one format ("warning: ..."), written at once and in order with the command's other output (the console
/// logger of M.E.Logging prefixes categories and levels and writes from a background queue, so a warning could land
/// after the summary or be lost on exit), and the tests assert on the lines themselves.
/// </summary>
public interface IEventLog
{
    /// <summary>Something went wrong or was worked around; the run goes on.</summary>
    void Warning(string message);

    /// <summary>A line of information (left out with --quiet).</summary>
    void Info(string message);
}

/// <summary>Writes events as lines to a writer (null: standard error, as it is at each call): warnings as "warning: ...", information unless
/// quiet.</summary>
public sealed class TextEventLog(TextWriter? writer, bool quiet = false) : IEventLog
{
    /// <summary>Standard error, as the command lines write it.</summary>
    public static TextEventLog StandardError { get; } = new(null);

    private TextWriter Writer => writer ?? Console.Error;

    public void Warning(string message) => Writer.WriteLine($"warning: {message}");
    public void Info(string message) { if (!quiet) Writer.WriteLine(message); }
}

/// <summary>Drops every event (benchmarks, probes).</summary>
public sealed class NullEventLog : IEventLog
{
    public static NullEventLog Instance { get; } = new();
    public void Warning(string message) { }
    public void Info(string message) { }
}

/// <summary>Puts a prefix before every message: one camera's events in a run of several ("camera front: ...").</summary>
public sealed class PrefixedEventLog(string prefix, IEventLog log) : IEventLog
{
    public void Warning(string message) => log.Warning(prefix + message);
    public void Info(string message) => log.Info(prefix + message);
}
