using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace RealtimeMtl.Cli.Bench;

/// <summary>
/// Sampled allocation profile from the runtime's own GC AllocationTick events (one event per ~100 KB allocated,
/// naming the type that crossed the mark): which types the per-frame path allocates, in proportion.
/// </summary>
public sealed class AllocationProfile : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private volatile bool _recording;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    public void Start() => _recording = true;
    public void Stop() => _recording = false;

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var type = e.PayloadNames?.IndexOf("TypeName") is int t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        // The listener's own event plumbing (allocated because it listens) is not the engine's.
        if (type.StartsWith("System.Diagnostics.Tracing.", StringComparison.Ordinal) || type is "MoreEventInfo" || type.Contains("DisplayClass",
            StringComparison.Ordinal)) return;
        var amount = e.PayloadNames?.IndexOf("AllocationAmount64") is int a and >= 0 && e.Payload[a] is ulong v ? (long)v : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, old) => old + amount);
    }

    /// <summary>The types that took the largest shares of sampled bytes, largest first.</summary>
    public IReadOnlyList<(string Type, double Share)> Top(int count)
    {
        var total = (double)Math.Max(1, _bytes.Values.Sum());
        return _bytes.OrderByDescending(p => p.Value).Take(count).Select(p => (p.Key, p.Value / total)).ToList();
    }
}
