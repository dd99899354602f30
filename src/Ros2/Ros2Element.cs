using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Sources;
using RealtimeMtl.Ros2.Capture;
using RealtimeMtl.Ros2.Dds;

namespace RealtimeMtl.Ros2;

/// <summary>The ROS 2 element's start-up step: <c>ros2:</c> sources open through <see cref="SourceFactory"/>.</summary>
public static class Ros2Element
{
    public static void Register() => SourceFactory.RegisterScheme(Ros2SourceSpec.Prefix, Open);

    private static IFrameSource Open(string spec, SourceOptions options)
    {
        var parsed = Ros2SourceSpec.Parse(spec);
        try { return new Ros2Source(parsed, options.Events); }
        catch (DdsUnavailableException e) { throw new SourceException(e.Message, e); }
    }
}
