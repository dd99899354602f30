using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Capture.Synthetic;

/// <summary>A camera walk through one synthetic room, with exact depth and labels on every frame.</summary>
public sealed class SyntheticSource : IFrameSource
{
    private readonly SyntheticOptions _options;
    private readonly SyntheticRoom _room;
    private readonly bool _realtime;
    private readonly CameraEffects? _effects;

    public SyntheticSource(SyntheticOptions options, bool realtime = false)
    {
        options.Validate();
        _options = options;
        _realtime = realtime;
        _room = new SyntheticRoom(options.Seed, 0, options.Randomised);
        if (options.Randomised)
        {
            var rng = Rng.For(options.Seed, 77);
            _effects = CameraEffects.Draw(ref rng) with { MotionBlur = 0 };
        }
        Intrinsics = SyntheticWorld.Intrinsics(options.Width, options.Height);
        // cycle=K: the K frames are rendered when the source opens, as a recording is loaded before it is replayed,
        // so from the first frame on capture costs a copy (what benchmarks of the engine want, not the renderer's cost).
        if (options.Cycle is { } k)
            for (long i = 0; i < Math.Min(k, options.Frames); i++) _cycle.Add(RenderFrame(i));
    }

    public SyntheticRoom Room => _room;
    public CameraIntrinsics Intrinsics { get; }
    public string Description => $"synthetic RGB-D {_options.Motion.ToString().ToLowerInvariant()} "
        + $"({(_options.Randomised ? "randomised world, " : "")}seed {_options.Seed}, {_options.Frames} frames, {_options.Width}x{_options.Height})";
    public bool IsLive => false;
    public double? NominalFps => _options.Fps;
    public long? FrameCount => _options.Frames;

    /// <summary>Renders frame <paramref name="index"/> directly (same pixels as the stream gives).</summary>
    public Frame RenderFrame(long index)
    {
        var image = new Mat(); var depth = new Mat(); var labels = new Mat();
        SyntheticRenderer.Render(_room, Pose(index), Intrinsics, image, depth, labels);
        if (_effects is not null)
        {
            // One camera for the whole walk; only the sensor noise changes frame to frame.
            var rng = Rng.For(_options.Seed, index * 13 + 1);
            _effects.Apply(image, ref rng);
        }
        if (_options.DepthNoise) SyntheticWorld.AddSensorNoise(depth, _options.Seed, index);
        return new Frame(index, Stopwatch.GetTimestamp(), image)
        {
            Depth = depth, Labels = labels, Intrinsics = Intrinsics, NominalFps = _options.Fps, MediaTimeSeconds = index / _options.Fps,
        };
    }

    private CameraPose Pose(long index)
    {
        switch (_options.Motion)
        {
            case SyntheticMotion.Static: return SyntheticWorld.WalkPose(_room, 0, _options.Fps);
            case SyntheticMotion.Turns:
                var start = SyntheticWorld.WalkPose(_room, 0, _options.Fps);
                var t = index / _options.Fps;
                return start with { Yaw = start.Yaw + 1.2 * Math.Sin(2 * Math.PI * t / 4.0) };
            default: return SyntheticWorld.WalkPose(_room, index, _options.Fps);
        }
    }

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        for (long i = 0; i < _options.Frames; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_options.FailAtFrame == i) throw new SourceException($"synthetic camera failed at frame {i} (fail={i}), as an unplugged camera does");
            if (_options.StallAtFrame == i && _options.StallSeconds > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(_options.StallSeconds), cancellationToken).ConfigureAwait(false);
                start += (long)(_options.StallSeconds * Stopwatch.Frequency);
            }
            if (_realtime)
            {
                var due = start + (long)(i / _options.Fps * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
            yield return _options.Cycle is { } k ? Replayed(i, k) : RenderFrame(i);
            if (!_realtime && i % 8 == 0) await Task.Yield();
        }
    }

    private readonly List<Frame> _cycle = [];
    private readonly FramePool _pool = new();

    /// <summary>cycle=K: copies of the K frames rendered at open, in order, again and again (replayed frames: capture costs a
    /// copy, into frames that came back).</summary>
    private Frame Replayed(long i, int k) => _pool.CopyOf(_cycle[(int)(i % k)], i, Stopwatch.GetTimestamp());

    public ValueTask DisposeAsync()
    {
        _pool.Dispose();
        foreach (var f in _cycle) f.Dispose();
        _cycle.Clear();
        return ValueTask.CompletedTask;
    }
}
