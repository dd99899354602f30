using System.Globalization;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Ros2.Capture;

/// <summary>
/// <c>ros2:IMAGE_TOPIC[,info=TOPIC][,depth=TOPIC][,giveup=SECONDS][,reliable]</c>: a ROS 2 camera as a source.
/// An image topic ending in /compressed is read as sensor_msgs/CompressedImage.
/// </summary>
public sealed record Ros2SourceSpec(string ImageTopic)
{
    public const string Prefix = "ros2:";

    /// <summary>sensor_msgs/CameraInfo whose K, D, R and P become the frames' intrinsics.</summary>
    public string? InfoTopic { get; init; }

    /// <summary>Depth (16UC1 millimetres or 32FC1 metres) paired with the images by stamp: an RGB-D source.</summary>
    public string? DepthTopic { get; init; }

    /// <summary>How long nothing may arrive before the source gives up (the run ends with exit 3).</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Ask for reliable delivery (default: best effort, which matches every publisher).</summary>
    public bool Reliable { get; init; }

    public bool Compressed => ImageTopic.EndsWith("/compressed", StringComparison.Ordinal);

    public static bool Is(string spec) => spec.StartsWith(Prefix, StringComparison.Ordinal);

    public static Ros2SourceSpec Parse(string spec)
    {
        var parts = spec[Prefix.Length..].Split(',', StringSplitOptions.TrimEntries);
        var image = Topic(parts[0], "the image topic", spec);
        var s = new Ros2SourceSpec(image);
        foreach (var part in parts.Skip(1))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            s = kv[0] switch
            {
                "info" when kv.Length == 2 => s with { InfoTopic = Topic(kv[1], "info", spec) },
                "depth" when kv.Length == 2 => s with { DepthTopic = Topic(kv[1], "depth", spec) },
                "giveup" when kv.Length == 2 && double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture,
                    out var sec) && sec is > 0 and <= 86400
                    => s with { GiveUpAfter = TimeSpan.FromSeconds(sec) },
                "reliable" when kv.Length == 1 => s with { Reliable = true },
                _ => throw new SourceException($"'{part}' in --source {spec} is not a ROS 2 source option; known: info=TOPIC, depth=TOPIC, "
                    + $"giveup=SECONDS, reliable "
                    + "(e.g. ros2:/camera/image_raw,info=/camera/camera_info,depth=/camera/depth/image_raw)."),
            };
        }
        return s;
    }

    private static string Topic(string text, string what, string spec)
    {
        if (text.Length < 2 || text[0] != '/' || text.EndsWith('/') || text.Contains("//", StringComparison.Ordinal)
            || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '/'))
            throw new SourceException($"{what} '{text}' in --source {spec} is not an absolute ROS 2 topic name; e.g. ros2:/camera/image_raw.");
        return text;
    }
}
