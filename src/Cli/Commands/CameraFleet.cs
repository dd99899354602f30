using System.Text;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Pipeline.Frames;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// --cameras FILE: a fleet of cameras in YAML or JSON (read with YamlDotNet: YAML 1.2, of which JSON is a part).
/// <code>
/// cameras:
///   - name: front                      # letters, digits, '_' and '-' (default: cam0, cam1, ... by place)
///     source: rtsp://10.0.0.5/stream   # any --source
///     intrinsics: calib/front.yaml     # optional: its calibration (OpenCV or ROS YAML/JSON)
///     frame_id: front_optical_frame    # optional: its frame id
///     realtime: true                   # optional: pace a file at its rate and treat it as live
///     record: out/front.mp4            # optional: its own recording (else --record's {camera} path)
/// </code>
/// Relative paths in the file are the file's folder's.
/// </summary>
public static class CameraFleet
{
    public static List<NamedSource> Read(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"--cameras '{path}' does not exist; write a YAML or JSON file with a 'cameras' list " +
            $"(see ./rtmtl run --help)");
        // YAML 1.2 (JSON is YAML too): an unquoted "source: synthetic:frames=10" is the string it looks like.
        YamlNode root;
        try
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(path)) stream.Load(reader);
            root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : new YamlScalarNode("");
        }
        catch (Exception e) when (e is YamlException or IOException or InvalidOperationException or DecoderFallbackException)
        {
            throw new ArgumentException($"--cameras '{path}' is not YAML or JSON: {e.Message.Split('\n')[0]}");
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string Local(string p) => Path.IsPathRooted(p) || p.Contains("://", StringComparison.Ordinal) || p.Contains(':', StringComparison.Ordinal)
            || p.All(char.IsDigit) ? p : Path.Combine(folder, p);
        if (root is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode("cameras"),
            out var listNode) || listNode is not YamlSequenceNode list)
            throw new ArgumentException($"--cameras '{path}' has no 'cameras' list; give one entry per camera with at least 'source'");
        if (list.Children.Count == 0)
            throw new ArgumentException($"--cameras '{path}' lists no camera; give one entry per camera with at least 'source', e.g. cameras: "
                + $"[{{name: front, source: 0}}]");
        var values = new List<string>();
        var extras = new List<(string? Intrinsics, string? FrameId, bool? Realtime, string? Record)>();
        var i = 0;
        foreach (var item in list.Children)
        {
            if (item is not YamlMappingNode node) throw new ArgumentException($"--cameras '{path}': camera {i} is not a mapping of name, source, "
                + $"...; e.g. - {{name: front, source: 0}}");
            string? S(string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var v)
                ? v is YamlScalarNode { Value: { Length: > 0 } text } ? text
                    : throw new ArgumentException($"--cameras '{path}': camera {i}'s '{key}' is not a single value; quote it if it holds ': ' or '#'")
                : null;
            var source = S("source") ?? throw new ArgumentException($"--cameras '{path}': camera {i} has no 'source'");
            var name = S("name");
            var spec = source.Contains("://", StringComparison.Ordinal) || source.Contains(':', StringComparison.Ordinal) ? source : Local(source);
            values.Add(name is null ? source : $"{name}={spec}");
            bool? realtime = S("realtime") switch
            {
                null => null,
                "1" or "true" or "yes" => true,
                "0" or "false" or "no" => false,
                var v => throw new ArgumentException($"--cameras '{path}': camera "
                    + $"{name ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)} has realtime '{v}'; use true or false"),
            };
            extras.Add((S("intrinsics") is { } cal ? Local(cal) : null, S("frame_id"), realtime, S("record") is { } rec ? Local(rec) : null));
            i++;
        }
        var cameras = NamedSource.Parse(values);
        for (var k = 0; k < cameras.Count; k++)
        {
            var (intrinsics, frameId, realtime, record) = extras[k];
            if (frameId is not null && (frameId.Length == 0 || frameId.Any(char.IsWhiteSpace)))
                throw new ArgumentException($"--cameras '{path}': camera {cameras[k].Name} has frame_id '{frameId}'; use a name without spaces");
            CameraIntrinsics? calibration = null;
            if (intrinsics is not null)
            {
                try { calibration = CameraCalibration.Read(intrinsics); }
                catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
                {
                    throw new ArgumentException($"--cameras '{path}': "
                    + $"camera {cameras[k].Name}: {e.Message}", e);
                }
            }
            cameras[k] = cameras[k] with { Calibration = calibration, FrameId = frameId, Realtime = realtime, Record = record };
        }
        return cameras;
    }
}
