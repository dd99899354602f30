namespace RealtimeMtl.Serving;

/// <summary>The newest encoded frame and a way to wait for the next one. Readers that fall behind skip to the newest.</summary>
public sealed class LatestJpeg
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();

    public byte[]? Jpeg { get; private set; }
    public long Version { get; private set; }

    public void Publish(byte[] jpeg)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            Jpeg = jpeg;
            Version++;
            done = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        done.TrySetResult();
    }

    /// <summary>Waits until a frame newer than <paramref name="seen"/> exists; returns it and its version.</summary>
    public async Task<(byte[] Jpeg, long Version)> NextAsync(long seen, CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (Version > seen && Jpeg is not null) return (Jpeg, Version);
                wait = _next.Task;
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }
}
