using RealtimeMtl.Render;
using RealtimeMtl.Render.Drawing;
using RealtimeMtl.Serving;

namespace RealtimeMtl.Cli.Commands;

/// <summary>Lets the web view change its own renderer's layout, alpha and colormap while the engine runs (never the engine's).</summary>
internal sealed class RendererControl(FrameRenderer renderer) : IRenderControl, IDisposable
{
    public RealtimeMtl.Pipeline.Stages.IFrameRenderer Renderer => renderer;
    public bool Changed { get; private set; }
    public void Dispose() => renderer.Dispose();

    public string Layout => renderer.Options.Layout.ToString().ToLowerInvariant();
    public double Alpha => renderer.Options.Alpha;
    public string Colormap => renderer.Options.Colormap.ToString().ToLowerInvariant();

    public void Set(string? layout, double? alpha, string? colormap)
    {
        var o = renderer.Options;
        if (layout is not null) o = o with { Layout = RenderOptions.ParseLayout(layout) };
        if (alpha is not null) o = o with { Alpha = alpha.Value };
        if (colormap is not null) o = o with { Colormap = RenderOptions.ParseColormap(colormap) };
        renderer.Options = o; // validates
        Changed = true;
    }
}
