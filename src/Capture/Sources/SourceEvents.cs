namespace RealtimeMtl.Capture.Sources;

/// <summary>Where sources report things the user should know (outages, reconnects) without failing the run.</summary>
public interface ISourceEvents
{
    void Warning(string message);
    void Info(string message);
}

/// <summary>Writes source events to standard error.</summary>
public sealed class ConsoleSourceEvents : ISourceEvents
{
    public static ConsoleSourceEvents Instance { get; } = new();
    public void Warning(string message) => Console.Error.WriteLine($"warning: {message}");
    public void Info(string message) => Console.Error.WriteLine(message);
}
