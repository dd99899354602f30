namespace RealtimeMtl.Ros2.Dds;

/// <summary>A writer of one ROS 2 topic: sends CDR messages as they are.</summary>
public sealed class DdsWriter(string topic, int handle)
{
    private long _sent, _failed, _bytes;

    public string Topic { get; } = topic;

    /// <summary>Readers matched now: none means a message would go nowhere.</summary>
    public int Subscribers => Math.Max(0, CycloneDds.rtmtl_dds_matched(handle));

    public long Sent => Interlocked.Read(ref _sent);
    public long Failed => Interlocked.Read(ref _failed);
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Sends one message (CDR with its encapsulation header); false when DDS refused it (counted).</summary>
    public unsafe bool Write(ReadOnlySpan<byte> cdr)
    {
        int rc;
        fixed (byte* p = cdr) rc = CycloneDds.rtmtl_dds_write(handle, p, (uint)cdr.Length);
        if (rc < 0) { Interlocked.Increment(ref _failed); return false; }
        Interlocked.Increment(ref _sent);
        Interlocked.Add(ref _bytes, cdr.Length);
        return true;
    }
}
