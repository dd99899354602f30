namespace RealtimeMtl.Ros2.Dds;

/// <summary>A reader of one ROS 2 topic: hands back each message's CDR as it arrived.</summary>
public sealed class DdsReader(string topic, int handle, int waitset)
{
    public string Topic { get; } = topic;

    /// <summary>Writers matched now.</summary>
    public int Publishers => Math.Max(0, CycloneDds.rtmtl_dds_publishers(handle));

    /// <summary>Waits up to <paramref name="timeout"/> for data; true when some is there.</summary>
    public bool Wait(TimeSpan timeout) => CycloneDds.rtmtl_dds_wait(waitset, (long)(timeout.TotalMilliseconds * 1_000_000)) > 0;

    /// <summary>Takes the next message (its CDR, copied, and the writer's source time in Unix ns); false when none waits.</summary>
    public unsafe bool TryTake(out byte[] cdr, out long sourceUnixNs)
    {
        var n = CycloneDds.rtmtl_dds_take(handle, out var sample, out var data, out var size, out sourceUnixNs);
        if (n <= 0) { cdr = []; return false; }
        try { cdr = new ReadOnlySpan<byte>(data, (int)size).ToArray(); }
        finally { CycloneDds.rtmtl_dds_release(sample); }
        return true;
    }
}
