using RealtimeMtl.Pipeline.Frames;

namespace RealtimeMtl.Pipeline.Sources;

/// <summary>A stream of frames. Files and sequences end; live sources run until cancelled.</summary>
public interface IFrameSource : IAsyncDisposable
{
    /// <summary>What the user named, for messages ("video file clip.mp4", "camera 0").</summary>
    string Description { get; }

    /// <summary>Live sources (cameras, network streams) produce frames whether or not anyone reads them: the pipeline drops the oldest.</summary>
    bool IsLive { get; }

    /// <summary>Nominal frame rate, when the source knows it.</summary>
    double? NominalFps { get; }

    /// <summary>Total frames for finite sources, when known.</summary>
    long? FrameCount { get; }

    /// <summary>
    /// Each frame carries its media timestamp (<see cref="Frame.MediaTimeSeconds"/>) from the container, which may be
    /// irregular (variable frame rate): a recording follows it so that it lasts as long as the source.
    /// </summary>
    bool TimedByMedia => false;

    /// <summary>Frames the source itself dropped before handing them over (a live stream's own newest-frame queue).</summary>
    long DroppedInternally => 0;

    /// <summary>Frames in order. The caller owns and disposes each frame.</summary>
    IAsyncEnumerable<Frame> ReadAllAsync(CancellationToken cancellationToken = default);
}
