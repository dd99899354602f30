using OpenCvSharp;
using RealtimeMtl.Pipeline.Metrics;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Pipeline.Stages;
using RealtimeMtl.Render.Drawing;

namespace RealtimeMtl.Render;

/// <summary>
/// Draws the layout the user chose: overlay (class colours blended over the frame), side (frame | segmentation |
/// depth) or quad (adds the source's depth or ground truth). HUD with measured FPS, latency, stage times, model,
/// device, drops and live quality; legend of the classes present; depth colour bar in metres. Runs on the render
/// stage's single task, so its scratch images are reused frame to frame; it draws into the packet's own target image.
/// </summary>
public sealed class FrameRenderer : IFrameRenderer, IDisposable
{
    private readonly ClassColorizer _colorizer;
    private readonly DepthColormap _depthMap = new();
    private readonly DepthColormap _sensorMap = new();
    private readonly Mat _colors = new(), _overlay = new(), _depth = new(), _sensor = new(), _scratch = new();
    private readonly ModelInfo _model;
    private readonly double[] _shares;
    private readonly int[] _present = new int[8];
    private readonly TextLines _hud = new();
    private long _hudTicks;
    private volatile RenderOptions _options;

    public FrameRenderer(ModelInfo model, RenderOptions options)
    {
        options.Validate();
        _model = model;
        _options = options;
        _colorizer = new ClassColorizer(model.Labels);
        _shares = new double[model.Labels.Count];
    }

    /// <summary>Swappable while running (the web view's controls).</summary>
    public RenderOptions Options
    {
        get => _options;
        set { value.Validate(); _options = value; }
    }

    public ClassColorizer Colorizer => _colorizer;

    /// <summary>Draws into a new image (tools and tests; the pipeline draws into the packet's reused target).</summary>
    public Mat Render(FramePacket p, PipelineStats stats)
    {
        var output = new Mat();
        Render(p, output, stats);
        return output;
    }

    public void Render(FramePacket p, Mat output, PipelineStats stats)
    {
        var o = _options;
        var frame = p.Frame;
        int w = frame.Width, h = frame.Height;
        _colorizer.Overlay(frame.Image, p.Labels, o.Alpha, _colors, _overlay);
        if (o.Boundaries) ClassColorizer.DrawBoundaries(p.Labels, _overlay, _scratch);
        var (dmin, dmax) = o.DepthRange ?? (_model.DepthMin, _model.DepthMax);
        var auto = o.AutoDepthRange && o.DepthRange is null;
        // Text, legend and colour bar grow with the panel: readable at 320x240 and at 1280x720.
        var ui = Text.UiScale(h);
        var bar = new Rect(0, (int)(8 * ui), (int)(36 * ui), Math.Min((int)(120 * ui), h - (int)(16 * ui)));
        switch (o.Layout)
        {
            case Layout.Overlay:
                _overlay.CopyTo(output);
                break;
            case Layout.Side:
                output.Create(h, w * 3, MatType.CV_8UC3);
                CopyInto(frame.Image, output, new Rect(0, 0, w, h));
                CopyInto(_overlay, output, new Rect(w, 0, w, h));
                (dmin, dmax) = _depthMap.Draw(p.Depth, _depth, o.Colormap, dmin, dmax, auto);
                CopyInto(_depth, output, new Rect(2 * w, 0, w, h));
                DepthColormap.DrawColorBar(output, bar with { X = 3 * w - (int)(52 * ui) }, o.Colormap, dmin, dmax, ui);
                break;
            default:
                output.Create(h * 2, w * 2, MatType.CV_8UC3);
                output.SetTo(Scalar.Black);
                CopyInto(frame.Image, output, new Rect(0, 0, w, h));
                CopyInto(_overlay, output, new Rect(w, 0, w, h));
                (dmin, dmax) = _depthMap.Draw(p.Depth, _depth, o.Colormap, dmin, dmax, auto);
                CopyInto(_depth, output, new Rect(0, h, w, h));
                if (frame.Depth is { } sensor && sensor.Size() == frame.Image.Size())
                {
                    _sensorMap.Draw(sensor, _sensor, o.Colormap, dmin, dmax, false);
                    CopyInto(_sensor, output, new Rect(w, h, w, h));
                    Text.Draw(output, "sensor depth", new Point(w + (int)(6 * ui), 2 * h - (int)(8 * ui)), 0.4 * ui);
                }
                else if (frame.Labels is { } truth && truth.Size() == frame.Image.Size())
                {
                    _colorizer.Colorize(truth, _sensor);
                    CopyInto(_sensor, output, new Rect(w, h, w, h));
                    Text.Draw(output, "ground truth", new Point(w + (int)(6 * ui), 2 * h - (int)(8 * ui)), 0.4 * ui);
                }
                else Text.Draw(output, "no sensor depth", new Point(w + (int)(6 * ui), 2 * h - (int)(8 * ui)), 0.4 * ui);
                Text.Draw(output, "predicted depth", new Point((int)(6 * ui), 2 * h - (int)(8 * ui)), 0.4 * ui);
                // All four panels named: input and segmentation along the top edge of the lower row's labels' height.
                Text.Draw(output, "input", new Point(w - (int)(60 * ui), h - (int)(8 * ui)), 0.4 * ui);
                Text.Draw(output, "segmentation", new Point(2 * w - (int)(110 * ui), h - (int)(8 * ui)), 0.4 * ui);
                DepthColormap.DrawColorBar(output, bar with { X = w - (int)(52 * ui), Y = h + (int)(8 * ui) }, o.Colormap, dmin, dmax, ui);
                break;
        }
        if (o.Legend) DrawLegend(output, p.Labels, o.Layout == Layout.Overlay ? 0 : w, h, ui);
        if (o.Hud)
        {
            // The HUD's text changes five times a second, rebuilt in its kept buffers.
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (_hud.Count == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(_hudTicks, now) >= HudRefresh)
            {
                HudLines(stats);
                _hudTicks = now;
            }
            Text.Panel(output, _hud, new Point(4, 4), 0.38 * ui);
        }
    }

    private void DrawLegend(Mat dst, Mat labels, int x0, int h, double ui)
    {
        // The eight largest classes present (share >= 0.5 %), largest first; reused buffers, no LINQ per frame.
        var shares = _shares;
        _colorizer.ClassShares(labels, shares);
        var count = 0;
        for (var c = 0; c < shares.Length; c++)
        {
            if (shares[c] < 0.005) continue;
            var pos = count;
            while (pos > 0 && shares[c] > shares[_present[pos - 1]]) pos--;
            if (pos >= _present.Length) continue;
            for (var i = Math.Min(count, _present.Length - 1); i > pos; i--) _present[i] = _present[i - 1];
            _present[pos] = c;
            if (count < _present.Length) count++;
        }
        if (count == 0) return;
        int row = (int)(13 * ui), box = (int)(10 * ui), pad = (int)(6 * ui);
        var y = h - (int)(8 * ui) - count * row;
        // A translucent box behind the entries, as wide as the longest name.
        var widest = 0;
        for (var k = 0; k < count; k++) widest = Math.Max(widest, Text.Width(_colorizer.Labels.Classes[_present[k]], 0.35 * ui));
        Text.Shade(dst, new Rect(x0 + pad / 2, y - pad / 2, box + widest + 3 * pad, count * row + pad / 2));
        for (var k = 0; k < count; k++)
        {
            var c = _present[k];
            var (b, g, r) = _colorizer.Labels.Palette[c];
            Cv2.Rectangle(dst, new Rect(x0 + pad, y, box, box), new Scalar(b, g, r), -1);
            Cv2.Rectangle(dst, new Rect(x0 + pad, y, box, box), Scalar.White, 1);
            Text.Draw(dst, _colorizer.Labels.Classes[c], new Point(x0 + pad + box + (int)(4 * ui), y + box - 1), 0.35 * ui);
            y += row;
        }
    }

    /// <summary>How often the HUD's figures are rebuilt: five times a second is readable (zero: every frame).</summary>
    public TimeSpan HudRefresh { get; init; } = TimeSpan.FromMilliseconds(200);

    private void HudLines(PipelineStats s)
    {
        // Kept buffers, each line written straight into its own: no strings, nothing boxed.
        var lines = _hud;
        lines.Clear();
        lines.Begin().Figure(s.RecentFps).Text(" FPS  e2e ").Figure(s.EndToEnd.Last).Text(" ms").End();
        lines.Begin().Text("pre ").Figure(s.Pre.Last).Text(" model ").Figure(s.Model.Last).Text(" post ").Figure(s.Post.Last)
            .Text(" render ").Figure(s.Render.Last).Text(" ms").End();
        lines.Begin().Text(_model.Architecture).Text(" on ").Text(s.Device).Text("  dropped ").Number(s.DroppedAtSource).End();
        var q = s.QualitySnapshot();
        if (q.SegPixels > 0 || q.DepthPixels > 0)
            lines.Begin().Text("live mIoU ").Figure(q.MeanIoU * 100).Text("%  RMSE ").Figure(q.Rmse, 2).Text(" m").End();
    }

    private static void CopyInto(Mat src, Mat dst, Rect area) => RealtimeMtl.Pipeline.Imaging.CvNative.CopyInto(src, dst, area);

    public void Dispose()
    {
        _colorizer.Dispose(); _depthMap.Dispose(); _sensorMap.Dispose();
        _colors.Dispose(); _overlay.Dispose(); _depth.Dispose(); _sensor.Dispose(); _scratch.Dispose();
    }
}
