using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace RealtimeMtl.Pipeline.Stages;

/// <summary>
/// One readiness signal for one waiter: the capture stages <see cref="Set"/> it when a frame (or the end of a camera)
/// arrives, and the muxer waits on it, with or without a deadline. A set that comes while nobody waits is kept, so no
/// wake-up is lost. Waiting allocates nothing: one reusable <see cref="IValueTaskSource"/> and one reusable timer.
/// </summary>
public sealed class ReadySignal : IValueTaskSource, IDisposable
{
    private readonly object _gate = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private readonly Timer _timer;
    private bool _pending;
    private bool _waiting;

    public ReadySignal() => _timer = new Timer(static s => ((ReadySignal)s!).Set(), this, Timeout.Infinite, Timeout.Infinite);

    /// <summary>Something is ready: wakes the waiter, or the next wait returns at once.</summary>
    public void Set()
    {
        lock (_gate)
        {
            if (!_waiting) { _pending = true; return; }
            _waiting = false;
        }
        _core.SetResult(true);
    }

    /// <summary>Returns when <see cref="Set"/> is called (or was since the last wait), or at <paramref name="deadline"/>
    /// (<see cref="Stopwatch"/> ticks; 0: none).</summary>
    public ValueTask WaitAsync(long deadline = 0)
    {
        lock (_gate)
        {
            if (_pending) { _pending = false; return ValueTask.CompletedTask; }
            if (deadline != 0)
            {
                var left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0) return ValueTask.CompletedTask;
                _timer.Change((long)Math.Ceiling(left * 1000.0 / Stopwatch.Frequency), Timeout.Infinite);
            }
            _core.Reset();
            _waiting = true;
            return new ValueTask(this, _core.Version);
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        _timer.Change(Timeout.Infinite, Timeout.Infinite);
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public void Dispose() => _timer.Dispose();
}
