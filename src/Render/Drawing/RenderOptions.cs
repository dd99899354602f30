namespace RealtimeMtl.Render.Drawing;

public enum Layout { Overlay, Side, Quad }
public enum DepthColormapKind { Turbo, Inferno, Jet, Gray }

/// <summary>How frames are drawn. Mutable at run time (the web view switches layout, alpha and colormap live).</summary>
public sealed record RenderOptions
{
    public Layout Layout { get; init; } = Layout.Side;
    /// <summary>Weight of the class colour in the overlay, 0..1.</summary>
    public double Alpha { get; init; } = 0.5;
    public bool Boundaries { get; init; }
    public DepthColormapKind Colormap { get; init; } = DepthColormapKind.Turbo;
    /// <summary>A fixed depth range in metres for the colormap (--depth-range MIN,MAX); null = automatic or the model's range.</summary>
    public (float Min, float Max)? DepthRange { get; init; }
    /// <summary>The default: the 2nd-98th percentile of each scene's depth, smoothed over time. False with no fixed range = the model's whole
    /// range.</summary>
    public bool AutoDepthRange { get; init; } = true;
    public bool Hud { get; init; } = true;
    public bool Legend { get; init; } = true;

    public static Layout ParseLayout(string s) => s.ToLowerInvariant() switch
    {
        "overlay" => Layout.Overlay,
        "side" => Layout.Side,
        "quad" => Layout.Quad,
        _ => throw new ArgumentException($"unknown layout '{s}'; use overlay, side or quad"),
    };

    public static DepthColormapKind ParseColormap(string s) => s.ToLowerInvariant() switch
    {
        "turbo" => DepthColormapKind.Turbo,
        "inferno" => DepthColormapKind.Inferno,
        "jet" => DepthColormapKind.Jet,
        "gray" or "grey" => DepthColormapKind.Gray,
        _ => throw new ArgumentException($"unknown colormap '{s}'; use turbo, inferno, jet or gray"),
    };

    public void Validate()
    {
        if (Alpha is < 0 or > 1 || double.IsNaN(Alpha)) throw new ArgumentException($"--alpha {Alpha} must be between 0 and 1");
        if (DepthRange is { } r && !(r.Max > r.Min
            && r.Min >= 0)) throw new ArgumentException("--depth-range must be 'min,max' metres with 0 <= min < max, or 'auto' or 'model'");
    }
}
