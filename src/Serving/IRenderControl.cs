namespace RealtimeMtl.Serving;

/// <summary>
/// What the web view may change while the engine runs: the layout, alpha and colormap of the picture its viewers
/// see. It works on a renderer of the web view's own (<see cref="Renderer"/>), never on the engine's, so it cannot
/// change a recording or any other output.
/// </summary>
public interface IRenderControl
{
    /// <summary>The web view's own renderer.</summary>
    RealtimeMtl.Pipeline.Stages.IFrameRenderer Renderer { get; }

    /// <summary>Whether a viewer changed anything: until then the web view shows the engine's own picture.</summary>
    bool Changed { get; }

    string Layout { get; }
    double Alpha { get; }
    string Colormap { get; }

    /// <summary>Applies the given settings (null = keep); throws ArgumentException for invalid values.</summary>
    void Set(string? layout, double? alpha, string? colormap);
}
