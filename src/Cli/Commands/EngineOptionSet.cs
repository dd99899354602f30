using System.CommandLine;
using System.Globalization;
using RealtimeMtl.Capture.Sources;
using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Render.Drawing;

namespace RealtimeMtl.Cli.Commands;

/// <summary>Everything a run is told on the command line, validated here (the core never parses strings).</summary>
public sealed record EngineSettings
{
    /// <summary>The (first) camera's source spec; <see cref="Cameras"/> holds every camera.</summary>
    public required string Source { get; init; }
    /// <summary>Every camera, named (cam0, cam1, ... when --source gave no name); one for a single-camera run.</summary>
    public IReadOnlyList<NamedSource> Cameras { get; init; } = [];
    /// <summary>--layout grid with several cameras: each camera drawn as an overlay, all in one mosaic (for --show and --record).</summary>
    public bool Grid { get; init; }
    /// <summary>The mosaic's recording (--layout grid --record PATH, or the demo's out/demo/grid.mp4).</summary>
    public string? GridRecord { get; init; }
    /// <summary>--save: the outputs not given go into a new runs/run/run-N, made when the run starts (never while parsing).</summary>
    public bool Save { get; init; }
    /// <summary>--batch: frames per model run at most (null: the number of cameras).</summary>
    public int? Batch { get; init; }
    /// <summary>--batch-timeout-ms (null: half the fastest camera's frame interval).</summary>
    public TimeSpan? BatchTimeout { get; init; }
    /// <summary>--model-instances: model runs in flight at once on the CPU (null: 2 with several cameras on 2 or more cores, else 1).</summary>
    public int? ModelInstances { get; init; }
    /// <summary>--sync-ms (null: no synchronised sets).</summary>
    public TimeSpan? Sync { get; init; }
    /// <summary>--on-camera-failure stop: one camera's failure ends the run.</summary>
    public bool StopOnCameraFailure { get; init; }
    public required string ModelPath { get; init; }
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;
    public int Threads { get; init; }
    public bool Realtime { get; init; }
    public long? MaxFrames { get; init; }
    public RenderOptions Render { get; init; } = new();
    public bool Show { get; init; }
    public string? Record { get; init; }
    /// <summary>Where --save puts engine runs: runs/run/run-N, with runs/run/latest linked to the newest.</summary>
    public const string RunsRoot = "runs/run";

    /// <summary>A folder or glob of videos: the files, run one after another (<see cref="FileQueue"/>); null otherwise.</summary>
    public IReadOnlyList<string>? Queue { get; init; }

    /// <summary>The run folder --save made (null without --save).</summary>
    public string? RunFolder { get; init; }

    /// <summary>Every option of the command with its resolved value (defaults included, secrets redacted), for args.json.</summary>
    public IReadOnlyDictionary<string, object?> Args { get; init; } = new Dictionary<string, object?>();

    /// <summary>ROS 2 messages of every camera in one MCAP file (--record-mcap).</summary>
    public string? RecordMcap { get; init; }
    /// <summary>--mcap-compression: how its chunks are compressed.</summary>
    public RealtimeMtl.Sinks.Mcap.McapCompression McapCompression { get; init; } = RealtimeMtl.Sinks.Mcap.McapCompression.Lz4;
    public RealtimeMtl.Sinks.Recording.RecordCodec RecordCodec { get; init; } = RealtimeMtl.Sinks.Recording.RecordCodec.Auto;
    public string? SaveRaw { get; init; }
    public string? StatsJson { get; init; }
    public CameraOptions Camera { get; init; } = new();
    public string? TrtCache { get; init; }
    public GpuDataPath GpuPath { get; init; } = GpuDataPath.Auto;
    public bool Verbose { get; init; }
    public RealtimeMtl.Inference.PostProcessing.SmoothMode Smooth { get; init; }
    /// <summary>Serve beyond loopback without a token (asked for explicitly; warned about once).</summary>
    public bool AllowAnonymous { get; init; }
    /// <summary>Exit 2 instead of falling back when the device asked for cannot start.</summary>
    public bool StrictDevice { get; init; }
    public bool Quiet { get; init; }
    public System.Net.IPEndPoint? Serve { get; init; }
    /// <summary>--metrics: /metrics alone, without the web view.</summary>
    public System.Net.IPEndPoint? Metrics { get; init; }
    public string? Token { get; init; }
    public int MaxViewers { get; init; } = 8;
    public TimeSpan ViewerTimeout { get; init; } = TimeSpan.FromSeconds(3);
    public string? SavePointCloud { get; init; }
    public int PointCloudEvery { get; init; } = 30;
    public System.Net.IPEndPoint? Foxglove { get; init; }
    public System.Net.IPEndPoint? Feed { get; init; }
    /// <summary>The user's camera calibration (--intrinsics), for point clouds, feeds and Foxglove.</summary>
    public RealtimeMtl.Pipeline.Frames.CameraIntrinsics? Calibration { get; init; }
    public bool Undistort { get; init; }
    public string FrameId { get; init; } = "camera_optical_frame";
    public bool FeedImage { get; init; }
    /// <summary>Per-frame results to NATS (rtmtl.frames.{camera}).</summary>
    public RealtimeMtl.Distributed.Bus.PublisherOptions? Publish { get; init; }
    /// <summary>--ros2: the perception as ROS 2 topics over DDS.</summary>
    public RealtimeMtl.Ros2.Ros2Options? Ros2 { get; init; }

    /// <summary>
    /// The settings of one camera of a run of several: its source, and its outputs with {camera} in a path replaced by
    /// its name (--save-raw and --save-pointcloud get a subfolder named after it when they have no {camera}).
    /// </summary>
    public EngineSettings WithRunFolder()
    {
        if (!Save) return this;
        // Everything the run writes goes into a fresh runs/run/run-N; an explicit --record/--save-raw/--stats-json still wins.
        // Engine runs and training runs each have their own folder and latest link (runs/run/latest, runs/train/latest).
        var dir = RealtimeMtl.Common.Files.RunFolders.Next(RunsRoot, "run");
        RealtimeMtl.Common.Files.RunFolders.UpdateLatest(RunsRoot, dir);
        var several = Cameras.Count > 1;
        return this with
        {
            Save = false,
            RunFolder = dir,
            Record = Record ?? (several ? Path.Combine(dir, NamedSource.Placeholder, "annotated.mp4") : Path.Combine(dir, "annotated.mp4")),
            SaveRaw = SaveRaw ?? (several ? Path.Combine(dir, NamedSource.Placeholder, "raw") : Path.Combine(dir, "raw")),
            StatsJson = StatsJson ?? Path.Combine(dir, "stats.json"),
            RecordMcap = RecordMcap ?? Path.Combine(dir, "recording.mcap"),
        };
    }

    /// <summary>The settings of one camera (see the remarks of <see cref="NamedSource"/>).</summary>
    public EngineSettings ForCamera(NamedSource camera)
    {
        var own = this with
        {
            Source = camera.Spec,
            Calibration = camera.Calibration ?? Calibration,
            FrameId = camera.FrameId ?? FrameId,
            Realtime = camera.Realtime ?? Realtime,
        };
        if (Cameras.Count <= 1) return camera.Record is null ? own : own with { Record = camera.Record };
        string? Each(string? path, bool folder) => path is null ? null
            : path.Contains(NamedSource.Placeholder, StringComparison.Ordinal) ? path.Replace(NamedSource.Placeholder, camera.Name,
                StringComparison.Ordinal)
            : folder ? Path.Combine(path, camera.Name) : path;
        return own with
        {
            Record = camera.Record ?? Each(Record, folder: false),
            SaveRaw = Each(SaveRaw, folder: true),
            SavePointCloud = Each(SavePointCloud, folder: true),
            StatsJson = null
        };
    }
}

/// <summary>One camera as --source names it: NAME=SPEC, or SPEC alone (named cam0, cam1, ... by its place).</summary>
public sealed record NamedSource(string Name, string Spec)
{
    /// <summary>From --cameras FILE: this camera's own calibration, frame id, pacing and recording (null: the run's).</summary>
    public RealtimeMtl.Pipeline.Frames.CameraIntrinsics? Calibration { get; init; }
    public string? FrameId { get; init; }
    public bool? Realtime { get; init; }
    public string? Record { get; init; }

    /// <summary>What per-camera output paths hold, to be replaced by the camera's name: --record 'out/{camera}.mp4'.</summary>
    public const string Placeholder = "{camera}";

    /// <summary>Reads the --source values; a name is letters, digits, '_' and '-', starting with a letter.</summary>
    public static List<NamedSource> Parse(IReadOnlyList<string> values)
    {
        var cameras = new List<NamedSource>();
        for (var i = 0; i < values.Count; i++)
        {
            var v = values[i];
            var eq = v.IndexOf('=');
            var named = eq > 0 && System.Text.RegularExpressions.Regex.IsMatch(v[..eq], "^[A-Za-z][A-Za-z0-9_-]{0,62}$");
            var camera = named ? new NamedSource(v[..eq], v[(eq + 1)..]) : new NamedSource($"cam{i}", v);
            if (camera.Spec.Length == 0) throw new ArgumentException($"--source '{v}' names camera '{camera.Name}' but gives no source after '='; " +
                $"e.g. --source {camera.Name}=rtsp://host/stream");
            if (cameras.FirstOrDefault(c => c.Name == camera.Name) is { } twin)
                throw new ArgumentException($"--source '{v}': two cameras are named '{camera.Name}' ('{twin.Spec}' too); give each its own name, " +
                    $"e.g. --source front=... --source rear=...");
            cameras.Add(camera);
        }
        return cameras;
    }
}

/// <summary>What a caller other than the command line (a worker) asks of a run.</summary>
public sealed record EngineHooks
{
    /// <summary>Ctrl+C and SIGTERM drain the run (off for a worker, which handles signals for all its jobs).</summary>
    public bool HandleSignals { get; init; } = true;
    /// <summary>Every second and at the end: frames done, frames in all (when known), recent frames per second.</summary>
    public Action<long, long?, double>? Progress { get; init; }
    /// <summary>Once, when the first processed frame reaches the sinks.</summary>
    public Action? FirstFrame { get; init; }
    /// <summary>More sinks for the (first) camera, made once the model is loaded (eval --video's stability sink).</summary>
    public Func<ModelInfo, IEnumerable<RealtimeMtl.Pipeline.Sinks.IFrameSink>>? Sinks { get; init; }
}

internal sealed class EngineOptionSet
{
    public readonly Option<string[]> Source = new("--source",
        "-s")
    {
        Description = "What to read: 0 or /dev/video2 (camera), clip.mp4 (file), rtsp://... http://... udp://... (stream), shots/ or "
            + "'shots/*.png' (images), clips/ or 'clips/*.mp4' (videos: a queue, one file after another), cams.streams (one source a line: "
                + "cameras), tum:PATH, nyu:PATH, ros2:/camera/image_raw[,info=TOPIC,depth=TOPIC,giveup=S,reliable] (a ROS 2 camera over DDS), "
                    + "synthetic[:seed=3,frames=500,size=320x240,fps=30,noise=1]. Give it several times for several cameras in one engine, each "
                        + "optionally named: --source front=rtsp://... --source rear=/dev/video2 (unnamed: cam0, cam1, ...)",
        DefaultValueFactory = _ => ["0"], AllowMultipleArgumentsPerToken = false
    };
    public readonly Option<string?> CamerasFile = new("--cameras")
    {
        Description =
        "A fleet of cameras in YAML or JSON instead of --source: a 'cameras' list with name, source, and optionally intrinsics, frame_id, realtime " +
            "and record per camera"
    };
    public readonly Option<int?> Batch = new("--batch")
    {
        Description =
        "Several cameras: frames per model run at most (default: the number of cameras, or with live cameras shared out over the " +
            "--model-instances; 1 runs each frame alone)"
    };
    public readonly Option<double?> BatchTimeoutMs = new("--batch-timeout-ms")
    {
        Description =
        "Several cameras: how long a batch waits for more cameras after its first frame (default: half the fastest camera's frame interval)"
    };
    public readonly Option<double?> SyncMs = new("--sync-ms")
    {
        Description =
        "Several cameras: group frames whose stamps (the sensor's time where known) lie within T ms into one synchronised set, run as one batch, " +
            "and offered whole by the gRPC feed's SubscribeSets (ROS 2 ApproximateTime-like); sets that cannot complete are counted per camera"
    };
    public readonly Option<string> OnCameraFailure = new("--on-camera-failure")
    {
        Description =
        "Several cameras: continue (a failed camera ends alone, the run exits 3 at the end) or stop (it ends the whole run)", DefaultValueFactory = _
            => "continue"
    };
    public readonly Option<string?> Model = new("--model",
        "-m")
    { Description = "ONNX model following the rtmtl contract (default: the shipped models/mtl_ssw_light.onnx)" };
    public readonly Option<string> Device = new("--device")
    {
        Description =
        "cpu, cuda, tensorrt or auto; needs the GPU build (./rtmtl build --gpu, then RTMTL_GPU=1 ./rtmtl run ...) and CUDA 13 + cuDNN 9; otherwise " +
            "one line, then CPU", DefaultValueFactory = _ => "cpu"
    };
    public readonly Option<string> GpuPath = new("--gpu-path")
    {
        Description =
        "Under --device cuda: auto, plain (ONNX Runtime copies), iobinding (device buffers bound once) or cudagraph (captured once, replayed)",
        DefaultValueFactory = _ => "auto"
    };
    public readonly Option<bool> StrictDevice = new("--strict-device")
    {
        Description =
        "Exit 2 when --device cuda/tensorrt cannot start, instead of falling back (to CUDA or the CPU) with one line"
    };
    public readonly Option<bool> AllowAnonymous = new("--allow-anonymous")
    {
        Description =
        "Serve --serve/--feed/--foxglove on a non-loopback address without --token (anyone who can reach it can watch)"
    };
    public readonly Option<string?> Smooth = new("--smooth")
    {
        Description = "Temporal fusion of labels and depth, per camera: 'flow' (the default: carried along the optical flow, fused where the"
            + " match holds), 'hysteresis' (per pixel, for a fixed camera) or 'off'",
        Arity = ArgumentArity.ZeroOrOne,
        HelpName = "flow|hysteresis|off",
    };
    public readonly Option<bool> Verbose = new("--verbose") { Description = "Also show ONNX Runtime's own log (warnings and above)" };
    public readonly Option<int?> ModelInstances = new("--model-instances")
    {
        Description =
        "CPU: model runs in flight at once, sharing one copy of the weights and the --threads between them (default: 2 with several cameras on 2 " +
            "or more cores, else 1)"
    };
    public readonly Option<int> Threads = new("--threads") { Description = "ONNX Runtime threads (0 = one per core)", DefaultValueFactory = _ => 0 };
    public readonly Option<bool> Realtime = new("--realtime")
    {
        Description =
        "Pace files and sequences at their native frame rate (and treat them as live)"
    };
    public readonly Option<long?> MaxFrames = new("--max-frames") { Description = "Stop after N frames" };
    public readonly Option<string> Layout = new("--layout")
    {
        Description =
        "overlay | side (frame | segmentation | depth) | quad (adds sensor depth or ground truth) | grid (several cameras: one mosaic of their " +
            "overlays, for --show and --record)", DefaultValueFactory = _ => "side"
    };
    public readonly Option<double> Alpha = new("--alpha")
    {
        Description = "Class colour weight in the overlay, 0..1", DefaultValueFactory = _
        => 0.5
    };
    public readonly Option<bool> Boundaries = new("--boundaries") { Description = "Draw class boundaries" };
    public readonly Option<string> Colormap = new("--colormap") { Description = "turbo | inferno | jet | gray", DefaultValueFactory = _ => "turbo" };
    public readonly Option<string?> DepthRange = new("--depth-range")
    {
        Description =
        "Depth colormap range: 'min,max' in metres (fixed), 'auto' (default: the 2nd-98th percentile of each scene, smoothed over time) or 'model' " +
            "(the model's whole range)"
    };
    public readonly Option<bool> NoHud = new("--no-hud") { Description = "No HUD and legend on the image" };
    public readonly Option<bool> Show = new("--show") { Description = "Show a window (needs a display)" };
    public readonly Option<string?> Record = new("--record")
    {
        Description =
        "Record the annotated video: out.mp4 / out.mkv (H.264 through ffmpeg; playable after a kill) or out.avi (MJPG); written as " +
            "NAME.recording.EXT and renamed when finished"
    };
    private static string? Mcap(string? path) =>
        path is null || path.EndsWith(".mcap", StringComparison.OrdinalIgnoreCase) ? path
        : throw new ArgumentException($"--record-mcap '{path}' must end in .mcap (an MCAP file of ROS 2 messages); for video use --record");

    public readonly Option<string?> RecordMcap = new("--record-mcap")
    {
        Description =
        "Record ROS 2 messages (input, overlay, labels, depth, camera_info, tf_static, classes) in an MCAP file for ros2 bag play and Foxglove; " +
            "chunked, so a kill loses at most the last second"
    };
    public readonly Option<string> McapCompression = new("--mcap-compression")
    {
        Description = "With --record-mcap: lz4 (default: about half the "
        + "size at little CPU), zstd (smaller still, at several times the CPU) or none; rosbag2, Foxglove and the MCAP readers read all three",
        DefaultValueFactory = _ => "lz4"
    };
    public readonly Option<string> RecordCodec = new("--record-codec")
    {
        Description = "h264 (ffmpeg; default for .mp4/.mkv), mp4v or mjpg (OpenCV)",
        DefaultValueFactory = _ => "auto"
    };
    public readonly Option<string?> SaveRaw = new("--save-raw")
    {
        Description = "Write per-frame labels PNG, depth PNG16 (mm) and JSON to this folder"
    };
    public readonly Option<string?> StatsJson = new("--stats-json",
        "--json")
    { Description = "Write the run summary as JSON here ('-' for stdout); checked before the run starts; --json is the same option" };
    public readonly Option<string> CameraSize = new("--camera-size")
    {
        Description = "Camera capture size WxH", DefaultValueFactory = _
        => "640x480"
    };
    public readonly Option<double> CameraFps = new("--camera-fps") { Description = "Camera frame rate", DefaultValueFactory = _ => 30 };
    public readonly Option<string> CameraFourcc = new("--camera-fourcc")
    {
        Description = "Camera pixel format (MJPG, YUYV)", DefaultValueFactory = _
        => "MJPG"
    };
    public readonly Option<string?> TrtCache = new("--trt-cache") { Description = "TensorRT engine cache folder" };
    public readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print only the summary" };
    public readonly Option<string?> Metrics = new("--metrics")
    {
        Description =
        "Prometheus /metrics alone (no web view) at ADDRESS:PORT, for a headless engine: stage histograms, per-camera series, process and .NET " +
            "runtime; loopback unless you give another address, --token applies"
    };
    public readonly Option<string?> Serve = new("--serve")
    {
        Description =
        "Live web view at ADDRESS:PORT (page, /stream.mjpg, /api/stats, /metrics); loopback unless you give another address, e.g. --serve " +
            "127.0.0.1:8080 (port 0: a free port, printed)"
    };
    public readonly Option<string?> Token = new("--token")
    {
        Description =
        "Require this access token (?token= or Authorization: Bearer) on the web view and feeds"
    };
    public readonly Option<int> MaxViewers = new("--max-viewers")
    {
        Description = "Concurrent MJPEG viewers / feed subscribers allowed",
        DefaultValueFactory = _ => 8
    };
    public readonly Option<double> ViewerTimeout = new("--viewer-timeout")
    {
        Description =
        "Seconds an MJPEG viewer may take no bytes before it is evicted and its slot freed", DefaultValueFactory = _ => 3.0
    };
    public readonly Option<string?> SavePointCloud = new("--save-pointcloud")
    {
        Description =
        "Write coloured, labelled PLY point clouds from predicted depth to this folder"
    };
    public readonly Option<string?> Foxglove = new("--foxglove")
    {
        Description =
        "Foxglove WebSocket server (foxglove.websocket.v1) at ADDRESS:PORT for Foxglove/Lichtblick, e.g. --foxglove 127.0.0.1:8765"
    };
    public readonly Option<string?> Feed = new("--feed")
    {
        Description =
        "gRPC perception feed (protos/rtmtl_feed.proto) at ADDRESS:PORT, e.g. --feed 127.0.0.1:50051"
    };
    public readonly Option<string?> Intrinsics = new("--intrinsics")
    {
        Description =
        "Camera calibration file (YAML or JSON with camera_matrix, distortion_coefficients, image_width, image_height) as OpenCV's calibration " +
            "tools or ROS camera_calibration write it; used for point clouds, the feeds and Foxglove"
    };
    public readonly Option<bool> Undistort = new("--undistort") { Description = "Rectify frames with the --intrinsics distortion before inference" };
    public readonly Option<string> FrameId = new("--frame-id")
    {
        Description =
        "frame_id in the headers of the gRPC feed and Foxglove messages (REP 105: an optical frame, z forward; its parent camera_link is published " +
            "on /tf_static)", DefaultValueFactory = _ => "camera_optical_frame"
    };
    public readonly Option<bool> FeedImage = new("--feed-image")
    {
        Description =
        "Offer the input image as JPEG in the gRPC feed (subscribers ask with include_image)"
    };
    public readonly Option<bool> Save = new("--save")
    {
        Description =
        "Keep this run in a new numbered folder runs/run/run-N (annotated.mp4, recording.mcap, raw/, stats.json, args.json; runs/run/latest links " +
            "to it); never overwrites an earlier run"
    };
    public readonly Option<string?> Publish = new("--publish")
    {
        Description =
        "Publish each frame's results (header, camera, per-class share and depth, depth percentiles) to NATS subject rtmtl.frames.{camera}, as " +
            "protos/rtmtl_feed.proto's FeedFrame, e.g. --publish nats://127.0.0.1:4222"
    };
    public readonly Option<string?> NatsToken = new("--nats-token") { Description = "With --publish: the NATS server's token" };
    public readonly Option<string?> NatsCreds = new("--nats-creds") { Description = "With --publish: a NATS .creds file (NKeys/JWT)" };
    public readonly Option<string> CameraName = new("--camera-name")
    {
        Description =
        "With --publish: this camera's name on the bus (subject rtmtl.frames.NAME)", DefaultValueFactory = _ => "cam0"
    };
    public readonly Option<bool> PublishMaps = new("--publish-maps")
    {
        Description =
        "With --publish: also send the labels (PNG) and depth (PNG16, mm) with every frame"
    };
    public readonly Option<bool> Ros2 = new("--ros2")
    {
        Description = "Be a ROS 2 node (DDS, Cyclone from Debian; no ROS install): publish "
        + "/rtmtl/image, overlay, labels (mono8), depth (32FC1 m), camera_info, classes and /tf_static (/NAME/... per camera with several); "
            + "ROS_DOMAIN_ID picks the domain"
    };
    public readonly Option<string?> Ros2Namespace = new("--ros2-namespace")
    {
        Description = "With --ros2: the topics' prefix instead of /rtmtl (one "
        + "camera) or before /NAME (several), e.g. --ros2-namespace robot1/perception"
    };
    public readonly Option<bool> Ros2Reliable = new("--ros2-reliable")
    {
        Description = "With --ros2: images, depth, labels and camera_info reliable "
        + "instead of ROS 2's sensor-data QoS (best effort, keep last 5)"
    };
    public readonly Option<bool> Ros2Points = new("--ros2-points")
    {
        Description = "With --ros2: also publish PREFIX/points "
        + "(sensor_msgs/PointCloud2, every 4th pixel, labelled and coloured)"
    };
    public readonly Option<int> Every = new("--every")
    {
        Description = "With --save-pointcloud: one cloud every N frames", DefaultValueFactory = _
        => 30
    };

    public void AddTo(Command c, bool includeSource = true)
    {
        if (includeSource) c.Options.Add(Source);
        if (includeSource) c.Options.Add(CamerasFile);
        foreach (var o in new Option[] { Batch, BatchTimeoutMs, ModelInstances, SyncMs, OnCameraFailure, Model, Device, StrictDevice, GpuPath,
            Smooth, Verbose, AllowAnonymous, Threads, Realtime, MaxFrames, Layout, Alpha, Boundaries, Colormap, DepthRange, NoHud, Show, Record,
                RecordMcap, McapCompression, RecordCodec, SaveRaw, StatsJson, CameraSize, CameraFps, CameraFourcc, TrtCache, Quiet, Serve, Metrics,
                    Token, MaxViewers, ViewerTimeout, SavePointCloud, Every, Foxglove, Feed, Intrinsics, Undistort, FrameId, FeedImage, Save,
                        Publish, NatsToken, NatsCreds, CameraName, PublishMaps, Ros2, Ros2Namespace, Ros2Reliable, Ros2Points })
            c.Options.Add(o);
    }

    /// <summary>The endpoints (as "--serve 0.0.0.0:8080") that listen beyond loopback.</summary>
    public static List<string> Exposed(System.Net.IPEndPoint? serve, System.Net.IPEndPoint? foxglove, System.Net.IPEndPoint? feed,
        System.Net.IPEndPoint? metrics = null)
    {
        var open = new List<string>();
        foreach (var (name, ep) in new[] { ("--serve", serve), ("--foxglove", foxglove), ("--feed", feed), ("--metrics", metrics) })
            if (ep is not null && !System.Net.IPAddress.IsLoopback(ep.Address)) open.Add($"{name} {ep}");
        return open;
    }

    /// <summary>--depth-range: 'min,max' (fixed), 'auto' or null (per-scene percentiles), 'model' (the model's range).</summary>
    public static ((float, float)? Range, bool Auto) ParseDepthRange(string? range)
    {
        if (range == "model") return (null, false);
        if (range is null or "auto") return (null, true);
        var p = range.Split(',');
        if (p.Length != 2 || !float.TryParse(p[0], CultureInfo.InvariantCulture, out var lo) || !float.TryParse(p[1], CultureInfo.InvariantCulture,
            out var hi)
            || !float.IsFinite(lo) || !float.IsFinite(hi))
            throw new ArgumentException($"--depth-range '{range}' must be 'min,max' in metres (finite numbers), 'auto' or 'model'");
        return ((lo, hi), false);
    }

    private RealtimeMtl.Inference.PostProcessing.SmoothMode SmoothOf(ParseResult r) => r.GetResult(Smooth) is { Implicit: false }
        ? RealtimeMtl.Inference.PostProcessing.SmoothModes.Parse(r.GetValue(Smooth))
        : RealtimeMtl.Inference.PostProcessing.SmoothMode.Off;

    /// <summary>
    /// The settings a `rtmtl run` command line stands for, through the same checks as the command: a worker's job and a
    /// submitted job are read this way, so what the CLI refuses they refuse in the same words.
    /// </summary>
    public static EngineSettings ReadArgs(IReadOnlyList<string> args)
    {
        var set = new EngineOptionSet();
        var run = new Command("run");
        set.AddTo(run);
        var parsed = run.Parse(args.ToArray());
        if (parsed.Errors.Count > 0) throw new ArgumentException(parsed.Errors[0].Message);
        return set.Read(parsed);
    }

    public EngineSettings Read(ParseResult r, IReadOnlyList<string>? sourceOverride = null)
    {
        var (depthRange, auto) = ParseDepthRange(r.GetValue(DepthRange));
        var grid = r.GetValue(Layout) == "grid";
        var noHud = r.GetValue(NoHud);
        var render = new RenderOptions
        {
            Layout = RenderOptions.ParseLayout(grid ? "overlay" : r.GetValue(Layout)!), Alpha = r.GetValue(Alpha),
            Boundaries = r.GetValue(Boundaries),
            Colormap = RenderOptions.ParseColormap(r.GetValue(Colormap)!), DepthRange = depthRange, AutoDepthRange = auto, Hud = !noHud,
            Legend = !noHud,
        };
        render.Validate();
        var size = r.GetValue(CameraSize)!.Split('x');
        if (size.Length != 2 || !int.TryParse(size[0], out var cw) || !int.TryParse(size[1],
            out var ch)) throw new ArgumentException("--camera-size must look like 640x480");
        var max = r.GetValue(MaxFrames);
        if (max is <= 0) throw new ArgumentException("--max-frames must be positive");
        if (r.GetValue(Threads) < 0) throw new ArgumentException("--threads must be 0 or more");
        if (r.GetValue(MaxViewers) < 1) throw new ArgumentException("--max-viewers must be at least 1");
        if (!(r.GetValue(ViewerTimeout) is > 0 and <= 3600)) throw new ArgumentException("--viewer-timeout must be between 0 and 3600 seconds");
        if (r.GetValue(Every) < 1) throw new ArgumentException("--every must be at least 1");
        if (r.GetResult(Every) is { Implicit: false } && r.GetValue(SavePointCloud) is null)
            throw new ArgumentException("--every sets how often --save-pointcloud writes a cloud; give --save-pointcloud DIR too");
        if (r.GetValue(Token) is { } tok && tok.Length < 8) throw new ArgumentException("--token must be at least 8 characters");
        if (r.GetValue(Token) is not null && r.GetValue(Serve) is null && r.GetValue(Feed) is null && r.GetValue(Foxglove) is null
            && r.GetValue(Metrics) is null)
            throw new ArgumentException("--token protects --serve, --metrics, --feed and --foxglove; give one of them too");
        var serve = r.GetValue(Serve) is { } sv ? RealtimeMtl.Serving.ServeOptions.ParseEndpoint(sv, 8080) : null;
        var foxglove = r.GetValue(Foxglove) is { } fx ? RealtimeMtl.Serving.ServeOptions.ParseEndpoint(fx, 8765) : null;
        var feed = r.GetValue(Feed) is { } fd ? RealtimeMtl.Serving.ServeOptions.ParseEndpoint(fd, 50051) : null;
        var metrics = r.GetValue(Metrics) is { } mx ? RealtimeMtl.Serving.ServeOptions.ParseEndpoint(mx, 9464) : null;
        if (metrics is not null && serve is not null) throw new
            ArgumentException("--serve already serves /metrics; give --metrics only without --serve");
        if (r.GetValue(Undistort) && r.GetValue(Intrinsics) is null) throw new
            ArgumentException("--undistort needs the camera's calibration: give --intrinsics FILE too");
        if (r.GetValue(FeedImage) && feed is null) throw new ArgumentException("--feed-image adds the image to the gRPC feed; give --feed " +
            "ADDRESS:PORT too");
        var frameId = r.GetValue(FrameId)!;
        if (frameId.Length == 0 || frameId.Any(char.IsWhiteSpace)) throw new
            ArgumentException($"--frame-id '{frameId}' must be a non-empty name without spaces, e.g. camera_color_optical_frame");
        RealtimeMtl.Pipeline.Frames.CameraIntrinsics? calibration = null;
        if (r.GetValue(Intrinsics) is { } calPath)
        {
            try { calibration = Capture.Frames.CameraCalibration.Read(calPath); }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException(e.Message, e); }
        }
        string? record = r.GetValue(Record), saveRaw = r.GetValue(SaveRaw), statsJson = r.GetValue(StatsJson);
        RealtimeMtl.Distributed.Bus.PublisherOptions? publish = null;
        if (r.GetValue(Publish) is { } bus)
        {
            var camera = r.GetValue(CameraName)!;
            if (camera.Length == 0 || camera.Any(c => char.IsWhiteSpace(c) || c is '.' or '*' or '>'))
                throw new ArgumentException($"--camera-name '{camera}' must be a non-empty name without spaces, dots, '*' or '>' (it is a NATS " +
                    $"subject token)");
            publish = new RealtimeMtl.Distributed.Bus.PublisherOptions
            {
                Endpoint = RealtimeMtl.Distributed.Nats.NatsEndpoint.Parse(bus, r.GetValue(NatsToken), r.GetValue(NatsCreds)), Camera = camera,
                Maps = r.GetValue(PublishMaps),
            };
        }
        else if (r.GetValue(NatsToken) is not null || r.GetValue(NatsCreds) is not null || r.GetValue(PublishMaps) || r.GetResult(CameraName) is
        {
            Implicit: false
        })
            throw new ArgumentException("--nats-token, --nats-creds, --camera-name and --publish-maps go with --publish nats://HOST:4222; give " +
                "--publish too");
        var mcapCompression = r.GetValue(McapCompression) switch
        {
            "zstd" => RealtimeMtl.Sinks.Mcap.McapCompression.Zstd,
            "lz4" => RealtimeMtl.Sinks.Mcap.McapCompression.Lz4,
            "none" => RealtimeMtl.Sinks.Mcap.McapCompression.None,
            var v => throw new ArgumentException($"--mcap-compression '{v}': use zstd, lz4 or none"),
        };
        if (r.GetResult(McapCompression) is { Implicit: false } && r.GetValue(RecordMcap) is null && !r.GetValue(Save))
            throw new ArgumentException("--mcap-compression sets how --record-mcap compresses; give --record-mcap FILE (or --save) too");
        RealtimeMtl.Ros2.Ros2Options? ros2 = null;
        if (r.GetValue(Ros2))
            ros2 = new RealtimeMtl.Ros2.Ros2Options
            {
                Namespace = RealtimeMtl.Ros2.Ros2Options.ValidateNamespace(r.GetValue(Ros2Namespace)), Reliable = r.GetValue(Ros2Reliable),
                Points = r.GetValue(Ros2Points),
            };
        else if (r.GetValue(Ros2Namespace) is not null || r.GetValue(Ros2Reliable) || r.GetValue(Ros2Points))
            throw new ArgumentException("--ros2-namespace, --ros2-reliable and --ros2-points shape what --ros2 publishes; give --ros2 too");
        if (r.GetValue(CamerasFile) is not null && r.GetResult(Source) is { Implicit: false })
            throw new ArgumentException("--cameras FILE and --source both name cameras; give one of them");
        var values = SourceList.ExpandStreams(sourceOverride ?? r.GetValue(Source)!);
        // One folder or glob of videos: a queue of files, one after another (live sources and .streams: cameras).
        var queue = r.GetValue(CamerasFile) is null && values.Count == 1 ? SourceList.VideoQueue(values[0]) : null;
        if (queue is not null)
        {
            if (queue.Count > 1) FileQueue.CheckOutputs(queue.Count, ("--record", record), ("--record-mcap", r.GetValue(RecordMcap)), ("--save-raw",
                saveRaw), ("--stats-json", statsJson));
            values = [queue[0]];
        }
        var cameras = r.GetValue(CamerasFile) is { } fleet ? CameraFleet.Read(fleet) : NamedSource.Parse(values);
        if (r.GetValue(Batch) is < 1 or > 64) throw new ArgumentException("--batch must be between 1 and 64");
        if (r.GetValue(ModelInstances) is < 1 or > 16) throw new ArgumentException("--model-instances must be between 1 and 16");
        if (r.GetValue(BatchTimeoutMs) is { } bt && !(bt is >= 0 and <= 10_000)) throw new
            ArgumentException("--batch-timeout-ms must be between 0 and 10000");
        var onFailure = r.GetValue(OnCameraFailure) switch
        {
            "continue" => false,
            "stop" => true,
            var v => throw new ArgumentException($"--on-camera-failure '{v}': use continue or stop"),
        };
        string? gridRecord = null;
        if (grid)
        {
            if (cameras.Count < 2) throw new ArgumentException("--layout grid shows several cameras in one picture; give --source more than once " +
                "(or use overlay, side or quad)");
            // The mosaic is what --record writes, unless the path holds {camera} (then each camera's own recording).
            if (record is not null && !record.Contains(NamedSource.Placeholder, StringComparison.Ordinal)) (gridRecord, record) = (record, null);
        }
        if (r.GetValue(SyncMs) is { } syncMs)
        {
            if (cameras.Count < 2) throw new ArgumentException("--sync-ms groups the frames of several cameras; give --source more than once");
            if (!(syncMs is > 0 and <= 10_000)) throw new ArgumentException("--sync-ms must be between 0 and 10000 milliseconds");
            if (r.GetValue(Batch) is { } b && b < cameras.Count) throw new
                ArgumentException($"--sync-ms runs each set as one batch: --batch {b} is smaller than the {cameras.Count} cameras; drop --batch");
        }
        if (cameras.Count > 1)
        {
            if (record is not null && !record.Contains(NamedSource.Placeholder, StringComparison.Ordinal) && cameras.Any(c => c.Record is null))
                throw new ArgumentException($"--record '{record}' would be written by all {cameras.Count} cameras; put {NamedSource.Placeholder} " +
                    $"in the path, e.g. --record 'out/{NamedSource.Placeholder}.mp4'");
            if (r.GetValue(Publish) is not null && r.GetResult(CameraName) is { Implicit: false })
                throw new ArgumentException($"--camera-name names the one camera of a run; with {cameras.Count} cameras each publishes under its " +
                    $"own name (rtmtl.frames.NAME): drop --camera-name");
            foreach (var (option, given) in new (string, bool)[] { ("--show", r.GetValue(Show) && !grid), ("--intrinsics",
                r.GetValue(Intrinsics) is not null) })
                if (given) throw new ArgumentException($"{option} serves one camera; with {cameras.Count} cameras it is not available yet: run one " +
                    $"rtmtl per camera for it, or drop {option}");
        }
        var open = Exposed(serve, foxglove, feed, metrics);
        if (open.Count > 0 && r.GetValue(Token) is null && !r.GetValue(AllowAnonymous))
            throw new ArgumentException($"{string.Join(", ", open)} would answer anyone on the network without a token; add --token SECRET, bind " +
                $"127.0.0.1, or pass --allow-anonymous to serve it openly");
        return new EngineSettings
        {
            Source = cameras[0].Spec, Cameras = cameras, Save = r.GetValue(Save), Grid = grid, GridRecord = gridRecord, Batch = r.GetValue(Batch),
            ModelInstances = r.GetValue(ModelInstances), StopOnCameraFailure = onFailure,
            BatchTimeout = r.GetValue(BatchTimeoutMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : null, Sync = r.GetValue(SyncMs) is { } sm
                ? TimeSpan.FromMilliseconds(sm) : null, ModelPath = r.GetValue(Model) ?? DefaultModel.Path(),
            Device = ExecutionProviders.Parse(r.GetValue(Device)!), Threads = r.GetValue(Threads), Realtime = r.GetValue(Realtime), MaxFrames = max,
            Render = render, Show = r.GetValue(Show), Record = record, RecordMcap = Mcap(r.GetValue(RecordMcap)), McapCompression = mcapCompression,
            RecordCodec = RealtimeMtl.Sinks.Recording.RecorderOptions.ParseCodec(r.GetValue(RecordCodec)!), SaveRaw = saveRaw,
            StatsJson = statsJson,
            Camera = new CameraOptions(cw, ch, r.GetValue(CameraFps), r.GetValue(CameraFourcc)!), TrtCache = r.GetValue(TrtCache),
            Quiet = r.GetValue(Quiet),
            GpuPath = GpuOptions.Parse(r.GetValue(GpuPath)!), Verbose = r.GetValue(Verbose), Smooth = SmoothOf(r),
            Serve = serve, Metrics = metrics, Token = r.GetValue(Token), MaxViewers = r.GetValue(MaxViewers),
            SavePointCloud = r.GetValue(SavePointCloud), PointCloudEvery = r.GetValue(Every),
            Foxglove = foxglove, Feed = feed, AllowAnonymous = r.GetValue(AllowAnonymous), StrictDevice = r.GetValue(StrictDevice),
            ViewerTimeout = TimeSpan.FromSeconds(r.GetValue(ViewerTimeout)),
            Calibration = calibration, Undistort = r.GetValue(Undistort), FrameId = frameId, FeedImage = r.GetValue(FeedImage), Publish = publish,
            Ros2 = ros2,
            Args = ResolvedArgs(r), Queue = queue is { Count: > 1 } ? queue : null,
        };
    }

    private static readonly System.Reflection.MethodInfo GetValueOfOption = typeof(ParseResult).GetMethods()
        .Single(m => m.Name == nameof(ParseResult.GetValue) && m.IsGenericMethodDefinition && m.GetParameters()[0].ParameterType.IsGenericType
            && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(Option<>));

    /// <summary>
    /// Every option of the command as it was resolved: the value given, or the default (null when none); the secrets
    /// (--token, --nats-token) only as "(given)". The model path is the one the run uses, the shipped model when none was given.
    /// </summary>
    public static Dictionary<string, object?> ResolvedArgs(ParseResult r)
    {
        var args = new Dictionary<string, object?>();
        foreach (var o in r.CommandResult.Command.Options)
        {
            if (o.Name is "--help" or "-h" or "--version" || o.ValueType == typeof(void)) continue;
            var value = GetValueOfOption.MakeGenericMethod(o.ValueType).Invoke(r, [o]);
            if (o.Name is "--token" or "--nats-token" && value is not null) value = "(given)";
            args[o.Name.TrimStart('-')] = value;
        }
        return args;
    }
}

/// <summary>Where the shipped model lives: $RTMTL_MODEL, else models/ found from the app or working folder upward.</summary>
public static class DefaultModel
{
    public const string FileName = "mtl_ssw_light.onnx";

    public static string Path()
    {
        if (Environment.GetEnvironmentVariable("RTMTL_MODEL") is { Length: > 0 } env) return env;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = System.IO.Path.Combine(dir.FullName, "models", FileName);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return System.IO.Path.Combine("models", FileName);
    }
}
