using OpenCvSharp;
using RealtimeMtl.Common.Concurrency;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Sinks;

/// <summary>
/// An OpenCV highgui window on its own UI thread (ImShow and WaitKey belong to one thread; WaitKey pumps events).
/// It shows the newest frame; closing the window or pressing q/Esc raises <see cref="CloseRequested"/>.
/// Without a display it says so once and the run goes on.
/// </summary>
public sealed class WindowSink : IFrameSink
{
    private const string Title = "RealtimeMtl";
    private readonly NewestWins<Mat> _frames = new(2, dropped => dropped.Dispose());
    private readonly Thread? _ui;
    private volatile bool _failed;

    public WindowSink(IEventLog log)
    {
        if (!HasDisplay())
        {
            log.Warning("--show: no display (DISPLAY/WAYLAND_DISPLAY unset); running without a window. Use --serve or --record to watch.");
            _failed = true;
            return;
        }
        _ui = new Thread(() => UiLoop(log)) { IsBackground = true, Name = "rtmtl-window" };
        _ui.Start();
    }

    public event Action? CloseRequested;
    public string Name => "window";
    public bool Lossless => false;
    public bool Active => !_failed;

    public static bool HasDisplay() => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY"))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"));

    public ValueTask WriteAsync(FramePacket packet, CancellationToken cancellationToken)
    {
        if (_failed || packet.Rendered is null) return ValueTask.CompletedTask;
        // Behind? The oldest waiting frame goes, the newest is shown (as everywhere else in the engine).
        _frames.Offer(packet.Rendered.Clone());
        return ValueTask.CompletedTask;
    }

    private void UiLoop(IEventLog log)
    {
        try
        {
            Cv2.NamedWindow(Title, WindowFlags.AutoSize);
            while (Take() is { } frame)
            {
                using (frame) Cv2.ImShow(Title, frame);
                var key = Cv2.WaitKey(1);
                if (key is 'q' or 27 || Cv2.GetWindowProperty(Title, WindowPropertyFlags.Visible) < 1) CloseRequested?.Invoke();
            }
            Cv2.DestroyWindow(Title);
        }
        catch (Exception e)
        {
            _failed = true;
            log.Warning($"--show: the window could not be opened ({e.Message}); running without it.");
        }
    }

    /// <summary>The next frame for the UI thread, waiting for one; null once completed and drained. The caller disposes it.</summary>
    private Mat? Take()
    {
        while (_frames.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            if (_frames.Reader.TryRead(out var m)) return m;
        return null;
    }

    public ValueTask CompleteAsync()
    {
        _frames.Complete();
        _ui?.Join(TimeSpan.FromSeconds(2));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _frames.Complete();
        _frames.Clear();
        return ValueTask.CompletedTask;
    }
}
