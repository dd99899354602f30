namespace RealtimeMtl.Capture.Sources;

/// <summary>Options that apply to whichever source a spec names.</summary>
public sealed record SourceOptions
{
    /// <summary>Pace file and sequence sources at their native frame rate.</summary>
    public bool Realtime { get; init; }
    public CameraOptions Camera { get; init; } = new();
    public NetworkStreamOptions Network { get; init; } = new();
    public IEventLog Events { get; init; } = TextEventLog.StandardError;

    /// <summary>The user's own calibration (--intrinsics): replaces what the source knows about its camera.</summary>
    public CameraIntrinsics? Calibration { get; init; }

    /// <summary>Rectify frames with <see cref="Calibration"/>'s distortion before inference (--undistort).</summary>
    public bool Undistort { get; init; }
}
