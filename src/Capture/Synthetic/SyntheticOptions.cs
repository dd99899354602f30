namespace RealtimeMtl.Capture.Synthetic;

/// <summary>How the synthetic RGB-D world is shown: seed, length, size, frame rate and sensor-like depth noise.</summary>
public sealed record SyntheticOptions
{
    public int Seed { get; init; } = 1;
    public int Frames { get; init; } = 300;
    public int Width { get; init; } = 320;
    public int Height { get; init; } = 240;
    public double Fps { get; init; } = 30;

    /// <summary>Sensor-like depth: quantisation growing with distance, holes at edges and beyond range.</summary>
    public bool DepthNoise { get; init; }

    /// <summary>The domain-randomised room, lights and camera effects (<see cref="DomainRandomisation"/>) instead of the classic look.</summary>
    public bool Randomised { get; init; }

    /// <summary>How the camera moves: a slow walk (the default), standing still, or fast turns on the spot.</summary>
    public SyntheticMotion Motion { get; init; } = SyntheticMotion.Walk;

    /// <summary>A stalled source, for testing: before frame <see cref="StallAtFrame"/> the source waits <see cref="StallSeconds"/>.</summary>
    public int? StallAtFrame { get; init; }
    public double StallSeconds { get; init; }

    /// <summary>A camera that dies, for testing: at frame <see cref="FailAtFrame"/> the source fails as an unplugged camera does.</summary>
    public int? FailAtFrame { get; init; }

    /// <summary>Replayed frames, for benchmarks: only the first <see cref="Cycle"/> frames are rendered, the rest are copies of them.</summary>
    public int? Cycle { get; init; }

    public void Validate()
    {
        if (Frames <= 0) throw new ArgumentException("synthetic: frames must be positive");
        if (Width < 16 || Height < 16 || Width > 4096
            || Height > 4096) throw new ArgumentException("synthetic: size must be between 16x16 and 4096x4096");
        if (Fps <= 0) throw new ArgumentException("synthetic: fps must be positive");
    }
}

/// <summary>The synthetic camera's motion (<c>motion=</c>).</summary>
public enum SyntheticMotion
{
    /// <summary>A slow loop through the room, panning and tilting.</summary>
    Walk,

    /// <summary>The walk's first pose for every frame: only the sensor noise changes.</summary>
    Static,

    /// <summary>Standing at the walk's first position, turning left and right by up to 70 degrees at up to 110 degrees a second.</summary>
    Turns,
}
