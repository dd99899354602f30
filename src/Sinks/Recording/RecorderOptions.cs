namespace RealtimeMtl.Sinks.Recording;

public enum RecordCodec { Auto, H264, Mp4v, Mjpg }

/// <summary>How and where the annotated stream is recorded.</summary>
public sealed record RecorderOptions
{
    public required string Path { get; init; }
    /// <summary>The source's nominal rate (file, camera, stream or synthetic fps=), never a measured one.</summary>
    public double Fps { get; init; } = 30;
    /// <summary>Live: each frame lands on the rate's time grid by its capture time; empty slots repeat the last frame.</summary>
    public bool Live { get; init; }
    public RecordCodec Codec { get; init; } = RecordCodec.Auto;
    /// <summary>
    /// Files whose frames carry media timestamps: each frame is written once, and a gap of two or more slots in the
    /// timestamps (a variable-rate file) repeats the previous frame, so that the recording lasts as long as the file.
    /// </summary>
    public bool FollowMediaTime { get; init; }
    /// <summary>The run uses a GPU: prefer NVENC (h264_nvenc) where ffmpeg has it.</summary>
    public bool PreferNvenc { get; init; }

    public static RecordCodec ParseCodec(string s) => s.ToLowerInvariant() switch
    {
        "auto" => RecordCodec.Auto,
        "h264" or "avc" => RecordCodec.H264,
        "mp4v" => RecordCodec.Mp4v,
        "mjpg" or "mjpeg" => RecordCodec.Mjpg,
        _ => throw new ArgumentException($"--record-codec '{s}': use h264, mp4v or mjpg"),
    };
}
