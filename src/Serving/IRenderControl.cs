namespace RealtimeMtl.Serving;

/// <summary>What the web view may change while the engine runs (implemented over the renderer by the composition root).</summary>
public interface IRenderControl
{
    string Layout { get; }
    double Alpha { get; }
    string Colormap { get; }

    /// <summary>Applies the given settings (null = keep); throws ArgumentException for invalid values.</summary>
    void Set(string? layout, double? alpha, string? colormap);
}
