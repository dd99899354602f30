using System.Diagnostics;

namespace RealtimeMtl.Pipeline.Frames;

/// <summary>
/// Frame times for the feeds: the engine's receive time as Unix nanoseconds (from the monotonic capture ticks), and
/// the acquisition stamp a robot wants in its header: the sensor's own time where the source has one, else receive time.
/// </summary>
public static class FrameTime
{
    private static readonly long OffsetNs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 - TicksToNs(Stopwatch.GetTimestamp());

    private static long TicksToNs(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));

    /// <summary>Wall-clock Unix nanoseconds of a <see cref="Stopwatch"/> timestamp.</summary>
    public static long ReceiveUnixNs(long ticks) => OffsetNs + TicksToNs(ticks);

    /// <summary>The header stamp and whether it is the sensor's own.</summary>
    public static (long UnixNs, bool FromSensor) Stamp(Frame frame) =>
        frame.SensorTimeUnixNs is { } s ? (s, true) : (ReceiveUnixNs(frame.TimestampTicks), false);
}
