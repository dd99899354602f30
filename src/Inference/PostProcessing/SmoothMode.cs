namespace RealtimeMtl.Inference.PostProcessing;

/// <summary>--smooth: which temporal filter runs at model resolution, per camera.</summary>
public enum SmoothMode
{
    /// <summary>Every frame as the model gives it.</summary>
    Off,

    /// <summary>Motion-compensated fusion along the optical flow (<see cref="FlowFusion"/>): the default of --smooth.</summary>
    Flow,

    /// <summary>Per-pixel, motion-blind: class hysteresis and a depth moving average (<see cref="TemporalSmoother"/>).</summary>
    Hysteresis,
}

/// <summary>Names of <see cref="SmoothMode"/> on the command line and in job files.</summary>
public static class SmoothModes
{
    public static SmoothMode Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "flow" or "on" or "true" => SmoothMode.Flow,
        "hysteresis" => SmoothMode.Hysteresis,
        "off" or "none" or "false" => SmoothMode.Off,
        _ => throw new ArgumentException(
            $"--smooth '{text}' is unknown: use --smooth (motion-compensated, the default), --smooth hysteresis or --smooth off."),
    };

    public static string Name(SmoothMode mode) => mode.ToString().ToLowerInvariant();
}
