using RealtimeMtl.Common.Logging;

namespace RealtimeMtl.Tests.Support;

/// <summary>The engine's event sink for tests: keeps every warning and info line (thread-safe) for assertions.</summary>
public sealed class CollectingEvents : IEventLog
{
    private readonly List<string> _warnings = [], _infos = [];

    public IReadOnlyList<string> Warnings { get { lock (_warnings) return _warnings.ToList(); } }
    public IReadOnlyList<string> Infos { get { lock (_infos) return _infos.ToList(); } }

    public void Warning(string message) { lock (_warnings) _warnings.Add(message); }
    public void Info(string message) { lock (_infos) _infos.Add(message); }
}
