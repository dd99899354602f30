namespace RealtimeMtl.Ros2;

/// <summary>--ros2 and its companions: where the perception topics go and how.</summary>
public sealed record Ros2Options
{
    /// <summary>--ros2-namespace: the topics' prefix (null: /rtmtl for one camera, /NAME for each of several).</summary>
    public string? Namespace { get; init; }

    /// <summary>--ros2-reliable: images, depth, labels and camera info reliable instead of ROS 2's sensor-data profile.</summary>
    public bool Reliable { get; init; }

    /// <summary>--ros2-points: also PREFIX/points (sensor_msgs/PointCloud2).</summary>
    public bool Points { get; init; }

    /// <summary>A namespace is one or more ROS 2 name tokens: letters, digits and '_', not starting with a digit, separated by '/'.</summary>
    public static string? ValidateNamespace(string? ns)
    {
        if (ns is null) return null;
        var trimmed = ns.Trim('/');
        var tokens = trimmed.Split('/');
        if (trimmed.Length == 0 || tokens.Any(t => t.Length == 0 || char.IsDigit(t[0]) || !t.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
            throw new ArgumentException($"--ros2-namespace '{ns}' is not a ROS 2 namespace: use letters, digits and '_' (not starting with a "
                + $"digit), e.g. --ros2-namespace robot1/perception");
        return trimmed;
    }

    /// <summary>Each camera's topic prefix, without a leading '/': rtmtl or NS for one camera, NAME or NS/NAME for several.</summary>
    public IReadOnlyList<string> Prefixes(IReadOnlyList<string> cameras) =>
        cameras.Count == 1 ? [Namespace ?? "rtmtl"] : cameras.Select(c => Namespace is null ? c : $"{Namespace}/{c}").ToList();

    /// <summary>Where the class map goes: /rtmtl/classes, or /NS/classes.</summary>
    public string ClassesTopic => $"/{Namespace ?? "rtmtl"}/classes";
}
