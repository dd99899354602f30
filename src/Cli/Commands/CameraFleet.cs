using OpenCvSharp;
using RealtimeMtl.Capture.Frames;

namespace RealtimeMtl.Cli.Commands;

/// <summary>
/// --cameras FILE: a fleet of cameras in YAML or JSON, read with OpenCV's FileStorage (as calibration files are).
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
        if (!File.Exists(path)) throw new ArgumentException($"--cameras '{path}' does not exist; write a YAML or JSON file with a 'cameras' list (see ./rtmtl run --help)");
        var text = File.ReadAllText(path);
        var json = text.TrimStart().StartsWith('{');
        if (!json && !text.StartsWith("%YAML", StringComparison.Ordinal)) text = "%YAML:1.0\n" + text;
        FileStorage fs;
        try { fs = new FileStorage(text, FileStorage.Modes.Read | FileStorage.Modes.Memory | (json ? FileStorage.Modes.FormatAuto : FileStorage.Modes.FormatYaml)); }
        catch (Exception e) when (e is OpenCVException or OpenCvSharpException)
        {
            throw new ArgumentException($"--cameras '{path}' is not YAML or JSON that OpenCV can read: {e.Message.Split('\n')[0]}");
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string Local(string p) => Path.IsPathRooted(p) || p.Contains("://", StringComparison.Ordinal) || p.Contains(':', StringComparison.Ordinal) || p.All(char.IsDigit) ? p : Path.Combine(folder, p);
        using (fs)
        {
            var list = fs["cameras"];
            if (list is null || list.Empty || !list.IsSeq) throw new ArgumentException($"--cameras '{path}' has no 'cameras' list; give one entry per camera with at least 'source'");
            var values = new List<string>();
            var extras = new List<(string? Intrinsics, string? FrameId, bool? Realtime, string? Record)>();
            var i = 0;
            foreach (var node in list)
            {
                string? S(string key) => node[key] is { Empty: false } v ? (v.IsString ? v.ReadString() : v.IsInt ? v.ReadInt().ToString(System.Globalization.CultureInfo.InvariantCulture) : null) : null;
                var source = S("source") ?? throw new ArgumentException($"--cameras '{path}': camera {i} has no 'source'");
                var name = S("name");
                values.Add(name is null ? source : $"{name}={(source.Contains("://", StringComparison.Ordinal) || source.Contains(':', StringComparison.Ordinal) ? source : Local(source))}");
                bool? realtime = S("realtime") switch
                {
                    null => null,
                    "1" or "true" or "yes" => true,
                    "0" or "false" or "no" => false,
                    var v => throw new ArgumentException($"--cameras '{path}': camera {name ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)} has realtime '{v}'; use true or false"),
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
                    catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"--cameras '{path}': camera {cameras[k].Name}: {e.Message}", e); }
                }
                cameras[k] = cameras[k] with { Calibration = calibration, FrameId = frameId, Realtime = realtime, Record = record };
            }
            return cameras;
        }
    }
}
