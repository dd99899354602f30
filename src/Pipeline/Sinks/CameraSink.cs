using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Sinks;

/// <summary>
/// One camera's entry into something that serves several cameras (a web page, a feed, Foxglove, metrics, a mosaic):
/// hands each packet, and the end of the camera's stream, to the owner's callbacks. <paramref name="pictureWanted"/>, when
/// given, says frame by frame whether the owner reads the drawn picture now (a ROS 2 overlay topic with a subscriber).
/// </summary>
public sealed class CameraSink(string name, bool lossless, Func<FramePacket, ValueTask> write, Func<bool>? wanted = null,
    Func<ValueTask>? complete = null, bool usesPicture = true, Func<bool>? pictureWanted = null) : IFrameSink
{
    public bool UsesPicture => pictureWanted?.Invoke() ?? usesPicture;
    public string Name => name;
    public bool Lossless => lossless;
    public bool Wanted => wanted?.Invoke() ?? true;
    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken) => write(packet);
    public ValueTask CompleteAsync() => complete?.Invoke() ?? ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
