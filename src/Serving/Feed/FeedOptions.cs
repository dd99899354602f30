using RealtimeMtl.Feed;

namespace RealtimeMtl.Serving.Feed;

/// <summary>What the robot feeds say about frames: the frame id of their headers, whether the input image travels, the user's calibration.</summary>
public sealed record FeedOptions
{
    /// <summary>std_msgs/Header frame_id of every frame (--frame-id).</summary>
    public string FrameId { get; init; } = "camera_optical_frame";

    /// <summary>JPEG of the input image in frames whose subscriber asks for it (--feed-image).</summary>
    public bool Image { get; init; }

    /// <summary>The camera before any frame arrives (--intrinsics); frames then bring their own.</summary>
    public RealtimeMtl.Pipeline.Frames.CameraIntrinsics? Calibration { get; init; }
}
