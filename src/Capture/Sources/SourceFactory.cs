using System.Globalization;
using RealtimeMtl.Capture.Synthetic;

namespace RealtimeMtl.Capture.Sources;

/// <summary>
/// Opens a source from the spec a user types:
/// <c>0</c> or <c>/dev/video2</c> (camera), <c>clip.mp4</c> (video file), <c>rtsp://...</c> (stream),
/// <c>shots/</c> or <c>shots/*.png</c> (images), <c>tum:PATH</c>, <c>nyu:PATH</c>,
/// <c>synthetic</c> or <c>synthetic:seed=3,frames=500,size=320x240,fps=30,noise=1</c>.
/// </summary>
public static class SourceFactory
{
    private static readonly Dictionary<string, Func<string, SourceOptions, IFrameSource>> Schemes = new(StringComparer.Ordinal);

    /// <summary>
    /// Sources that live in an element of their own (ros2: in src/Ros2), registered by the program at start-up: specs
    /// that start with <paramref name="prefix"/> are opened by <paramref name="open"/>.
    /// </summary>
    public static void RegisterScheme(string prefix, Func<string, SourceOptions, IFrameSource> open)
    {
        lock (Schemes) Schemes[prefix] = open;
    }

    public static IFrameSource Open(string spec, SourceOptions? options = null)
    {
        options ??= new SourceOptions();
        if (options.Undistort && options.Calibration is null) throw new
            SourceException("--undistort needs the camera's calibration: pass --intrinsics FILE.");
        var source = OpenRaw(spec, options);
        return options.Calibration is { } k ? new CalibratedSource(source, k, options.Undistort) : source;
    }

    private static IFrameSource OpenRaw(string spec, SourceOptions options)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new
            SourceException("no source given; pass --source (a camera index, a file, a URL, tum:PATH, nyu:PATH or synthetic).");
        spec = spec.Trim();
        Func<string, SourceOptions, IFrameSource>? scheme;
        lock (Schemes) scheme = Schemes.FirstOrDefault(kv => spec.StartsWith(kv.Key, StringComparison.Ordinal)).Value;
        if (scheme is not null) return scheme(spec, options);
        if (spec.StartsWith("ros2:", StringComparison.Ordinal))
            throw new SourceException($"--source {spec}: ROS 2 topics are read by the engine (rtmtl run); this command cannot open them.");
        if (spec == "synthetic" || spec.StartsWith("synthetic:", StringComparison.Ordinal))
            return new SyntheticSource(ParseSynthetic(spec), options.Realtime);
        if (spec.StartsWith("tum:", StringComparison.Ordinal)) return new TumSequenceSource(spec[4..], realtime: options.Realtime);
        if (spec.StartsWith("nyu:", StringComparison.Ordinal)) return new NyuSequenceSource(spec[4..]);
        if (spec.Contains("://", StringComparison.Ordinal)) return new NetworkStreamSource(spec, options.Network with { Realtime = options.Realtime },
            options.Events);
        if (spec.All(char.IsDigit) || spec.StartsWith("/dev/video", StringComparison.Ordinal)) return new CameraSource(spec, options.Camera,
            options.Events);
        if (Directory.Exists(spec) || spec.IndexOfAny(['*', '?']) >= 0) return new ImageFolderSource(spec, null, options.Events);
        return new VideoFileSource(spec, options.Realtime, options.Events);
    }

    private static SyntheticOptions ParseStall(SyntheticOptions o, string value)
    {
        var p = value.Split(':');
        if (p.Length != 2 || !int.TryParse(p[0], out var frame) || frame < 0
            || !double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds is >= 0 and <= 3600))
            throw new SourceException($"synthetic option stall '{value}' must be FRAME:SECONDS, e.g. stall=10:1.5");
        return o with { StallAtFrame = frame, StallSeconds = seconds };
    }

    public static SyntheticOptions ParseSynthetic(string spec)
    {
        var o = new SyntheticOptions();
        var colon = spec.IndexOf(':');
        if (colon < 0) return o;
        foreach (var part in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2) throw new SourceException($"synthetic option '{part}' is not key=value; e.g. " +
                $"synthetic:seed=3,frames=500,size=320x240.");
            var (key, value) = (kv[0].Trim(), kv[1].Trim());
            try
            {
                o = key switch
                {
                    "seed" => o with { Seed = int.Parse(value, CultureInfo.InvariantCulture) },
                    "frames" => o with { Frames = int.Parse(value, CultureInfo.InvariantCulture) },
                    "fps" => o with { Fps = double.Parse(value, CultureInfo.InvariantCulture) },
                    "noise" => o with { DepthNoise = value is "1" or "true" or "on" },
                    "world" => o with
                    {
                        Randomised = value switch
                        {
                            "randomised" or "randomized" => true,
                            "classic" => false,
                            _ => throw new SourceException($"synthetic option world={value}: use world=classic or world=randomised.")
                        }
                    },
                    "motion" => o with { Motion = ParseMotion(value) },
                    "stall" => ParseStall(o, value),
                    "cycle" => o with
                    {
                        Cycle = int.Parse(value, CultureInfo.InvariantCulture) is var k and >= 1 ? k
                        : throw new SourceException($"synthetic option cycle={value}: give how many frames to render before replaying them, e.g. " +
                            $"cycle=30.")
                    },
                    "fail" => o with
                    {
                        FailAtFrame = int.Parse(value, CultureInfo.InvariantCulture) is var f and >= 0 ? f
                        : throw new SourceException($"synthetic option fail={value}: give the frame at which the camera fails, e.g. fail=30.")
                    },
                    "size" => ParseSize(o, value),
                    _ => throw new SourceException($"synthetic option '{key}' is unknown; known: seed, frames, size, fps, noise, "
                        + "world (classic or randomised), motion (walk, static or turns), stall (stall=FRAME:SECONDS), "
                        + "fail (fail=FRAME: the camera dies there, as if unplugged), cycle (cycle=K: render K frames, then replay them)."),
                };
            }
            catch (FormatException) { throw new SourceException($"synthetic option '{part}' has a malformed value."); }
        }
        try { o.Validate(); }
        catch (ArgumentException e) { throw new SourceException(e.Message); }
        return o;
    }

    private static SyntheticMotion ParseMotion(string value) => value switch
    {
        "walk" => SyntheticMotion.Walk,
        "static" => SyntheticMotion.Static,
        "turns" => SyntheticMotion.Turns,
        _ => throw new SourceException($"synthetic option motion={value}: use motion=walk, motion=static or motion=turns."),
    };

    private static SyntheticOptions ParseSize(SyntheticOptions o, string value)
    {
        var wh = value.Split('x');
        if (wh.Length != 2) throw new FormatException();
        return o with { Width = int.Parse(wh[0], CultureInfo.InvariantCulture), Height = int.Parse(wh[1], CultureInfo.InvariantCulture) };
    }
}
