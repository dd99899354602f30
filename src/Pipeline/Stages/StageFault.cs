namespace RealtimeMtl.Pipeline.Stages;

/// <summary>The first failure of any stage: it cancels the source, so every channel drains and every sink is finalised.</summary>
public sealed class StageFault : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private string? _message;

    public CancellationToken Token => _cts.Token;
    public bool IsFaulted => _cts.IsCancellationRequested;

    /// <summary>"the infer stage failed at frame 12: ..." for the first fault; null while none happened.</summary>
    public string? Message => Volatile.Read(ref _message);

    public void Report(string stage, long sequence, Exception e)
    {
        Interlocked.CompareExchange(ref _message, $"the {stage} stage failed at frame {sequence}: {e.Message.Split('\n')[0].Trim()}", null);
        _cts.Cancel();
    }

    public void Dispose() => _cts.Dispose();
}
