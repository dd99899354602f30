using OpenCvSharp;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Sinks;

/// <summary>
/// --layout grid: one picture of all cameras. Each camera's sink (<see cref="Input"/>) copies its newest rendered
/// frame into its tile, labelled with the camera's name; each frame of the leading camera (the first one still
/// running) sends the whole mosaic to the outputs (a recorder, a window). A camera that ends keeps its last picture.
/// The outputs are completed when every camera has ended.
/// </summary>
public sealed class Mosaic : IAsyncDisposable
{
    private readonly string[] _names;
    private readonly IFrameSink[] _outputs;
    private readonly int _tileWidth;
    private readonly int _columns, _rows;
    private Size _tile;
    private Mat? _canvas;
    private readonly bool[] _ended;
    private readonly Lock _gate = new();
    private long _sequence;
    private int _open;

    /// <param name="tileWidth">Each tile's width; its height follows the first picture's aspect (even, for H.264).</param>
    public Mosaic(IReadOnlyList<string> cameras, int tileWidth, IReadOnlyList<IFrameSink> outputs)
    {
        _names = [.. cameras];
        _outputs = [.. outputs];
        _tileWidth = tileWidth / 2 * 2;
        _columns = (int)Math.Ceiling(Math.Sqrt(_names.Length));
        _rows = (int)Math.Ceiling(_names.Length / (double)_columns);
        _ended = new bool[_names.Length];
        _open = _names.Length;
    }

    /// <summary>The mosaic's size (columns x rows of tiles; empty before the first picture).</summary>
    public Size Size => _canvas is null ? default : new(_canvas.Width, _canvas.Height);

    /// <summary>Frames sent to the outputs.</summary>
    public long Frames => Interlocked.Read(ref _sequence);

    /// <summary>The sink of camera <paramref name="index"/>: lossless, so the leader's every frame makes one mosaic frame.</summary>
    public IFrameSink Input(int index) => new CameraSink("grid", true, p => UpdateAsync(index, p), complete: () => EndAsync(index));

    private Rect TileRect(int i) => new(i % _columns * _tile.Width, i / _columns * _tile.Height, _tile.Width, _tile.Height);

    private void Label(int i)
    {
        using var roi = new Mat(_canvas!, TileRect(i));
        Cv2.PutText(roi, _names[i], new Point(8, 22), HersheyFonts.HersheySimplex, 0.6, Scalar.All(0), 3, LineTypes.AntiAlias);
        Cv2.PutText(roi, _names[i], new Point(8, 22), HersheyFonts.HersheySimplex, 0.6, Scalar.All(255), 1, LineTypes.AntiAlias);
    }

    private async ValueTask UpdateAsync(int index, FramePacket packet)
    {
        FramePacket? composed = null;
        lock (_gate)
        {
            var picture = packet.Rendered ?? packet.Frame.Image;
            if (_canvas is null)
            {
                _tile = new Size(_tileWidth, Math.Max(2, (int)Math.Round(_tileWidth * picture.Height / (double)picture.Width / 2) * 2));
                _canvas = new Mat(_rows * _tile.Height, _columns * _tile.Width, MatType.CV_8UC3, Scalar.All(0));
                for (var i = 0; i < _names.Length; i++) Label(i);
            }
            using (var roi = new Mat(_canvas, TileRect(index)))
                Cv2.Resize(picture, roi, _tile, 0, 0, InterpolationFlags.Area);
            Label(index);
            if (index == Leader())
            {
                var image = _canvas.Clone();
                composed = new FramePacket(new Frame(Interlocked.Increment(ref _sequence) - 1, packet.CaptureTicks, image)) { Rendered = image };
            }
        }
        if (composed is null) return;
        try { foreach (var o in _outputs) await o.WriteAsync(composed, CancellationToken.None).ConfigureAwait(false); }
        finally { composed.Release(); }
    }

    private int Leader() => Array.IndexOf(_ended, false);

    private async ValueTask EndAsync(int index)
    {
        lock (_gate) _ended[index] = true;
        if (Interlocked.Decrement(ref _open) != 0) return;
        foreach (var o in _outputs) await o.CompleteAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var o in _outputs) await o.DisposeAsync().ConfigureAwait(false);
        _canvas?.Dispose();
    }
}
