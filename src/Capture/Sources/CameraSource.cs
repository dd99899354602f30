namespace RealtimeMtl.Capture.Sources;

/// <summary>A V4L2 camera by index (<c>0</c>) or device path (<c>/dev/video2</c>), with a one-frame driver buffer so frames are fresh.</summary>
public sealed class CameraSource : IFrameSource
{
    private readonly VideoCapture _capture;
    private readonly string _name;
    private readonly IEventLog _events;

    public CameraSource(string device, CameraOptions? options = null, IEventLog? events = null)
    {
        options ??= new CameraOptions();
        _events = events ?? TextEventLog.StandardError;
        _name = device;
        if (int.TryParse(device, out var index))
        {
            if (index < 0) throw new SourceException($"camera {device}: a camera index is 0 or more.");
            if (OperatingSystem.IsLinux() && !File.Exists($"/dev/video{index}"))
                throw new SourceException($"camera {device}: there is no /dev/video{index}; plug the camera in or pick another index (ls " +
                    $"/dev/video*), or try the built-in world: --source synthetic.");
            _capture = new VideoCapture(index, VideoCaptureAPIs.V4L2);
        }
        else
        {
            if (!File.Exists(device))
                throw new SourceException($"camera {device}: no such device; plug the camera in or check the path (ls /dev/video*).");
            _capture = new VideoCapture(device, VideoCaptureAPIs.V4L2);
        }
        if (!_capture.IsOpened())
        {
            _capture.Dispose();
            throw new SourceException($"camera {device} could not be opened; check that it is plugged in and not used by another program.");
        }
        // FOURCC before the frame size: many UVC cameras only offer large sizes at high rates in MJPG.
        if (options.FourCC.Length == 4 && !_capture.Set(VideoCaptureProperties.FourCC, VideoWriter.FourCC(options.FourCC)))
            _events.Warning($"camera {device} ignored FOURCC {options.FourCC}");
        if (!_capture.Set(VideoCaptureProperties.FrameWidth, options.Width) | !_capture.Set(VideoCaptureProperties.FrameHeight, options.Height))
            _events.Warning($"camera {device} ignored the requested size {options.Width}x{options.Height}");
        if (!_capture.Set(VideoCaptureProperties.Fps, options.Fps))
            _events.Warning($"camera {device} ignored the requested rate {options.Fps} FPS");
        _capture.Set(VideoCaptureProperties.BufferSize, 1);
        var fps = _capture.Get(VideoCaptureProperties.Fps);
        NominalFps = fps > 0 ? fps : options.Fps;
        _events.Info($"camera {device}: {_capture.Get(VideoCaptureProperties.FrameWidth)}x{_capture.Get(VideoCaptureProperties.FrameHeight)} at " +
            $"{NominalFps:0.#} FPS");
    }

    public string Description => $"camera {_name}";
    public bool IsLive => true;
    public double? NominalFps { get; }
    public long? FrameCount => null;

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long sequence = 0;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var image = new Mat();
            var ok = await Task.Run(() => _capture.Read(image) && !image.Empty(), cancellationToken).ConfigureAwait(false);
            if (!ok)
            {
                image.Dispose();
                if (++failures >= 30)
                    throw new SourceException($"camera {_name} stopped delivering frames (unplugged?); reconnect it and start again.");
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
                continue;
            }
            failures = 0;
            yield return new Frame(sequence++, Stopwatch.GetTimestamp(), image) { NominalFps = NominalFps };
        }
    }

    public ValueTask DisposeAsync()
    {
        _capture.Dispose();
        return ValueTask.CompletedTask;
    }
}
