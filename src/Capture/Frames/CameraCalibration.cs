namespace RealtimeMtl.Capture.Frames;

/// <summary>
/// Reads a camera calibration as OpenCV's calibration tools and ROS <c>camera_calibration</c> write it, in YAML or
/// JSON: <c>camera_matrix</c> (3x3), <c>distortion_coefficients</c> (4, 5, 8, ...), <c>image_width</c>,
/// <c>image_height</c>, and where given <c>rectification_matrix</c> (3x3) and
/// <c>projection_matrix</c> (3x4), which <c>--undistort</c> rectifies with as image_proc does. Matrices may be OpenCV matrices
/// (<c>!!opencv-matrix</c>) or plain maps with <c>data</c>.
/// </summary>
public static class CameraCalibration
{
    public static CameraIntrinsics Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--intrinsics '{path}' does not exist; pass a calibration file written by OpenCV " +
            $"or ROS camera_calibration (YAML or JSON).");
        FileStorage fs;
        var text = File.ReadAllText(path);
        // ROS camera_calibration writes plain YAML; OpenCV's reader wants its "%YAML:1.0" directive first.
        var json = text.TrimStart().StartsWith('{');
        if (!json && !text.StartsWith("%YAML", StringComparison.Ordinal)) text = "%YAML:1.0\n" + text;
        try
        {
            fs = new FileStorage(text, FileStorage.Modes.Read | FileStorage.Modes.Memory | (json ? FileStorage.Modes.FormatAuto
            : FileStorage.Modes.FormatYaml));
        }
        catch (Exception e) when (e is OpenCVException or OpenCvSharpException)
        {
            throw new InvalidDataException($"--intrinsics '{path}' is not a YAML or JSON file OpenCV can read: {e.Message.Split('\n')[0]}");
        }
        using (fs)
        {
            if (!fs.IsOpened()) throw new InvalidDataException($"--intrinsics '{path}' could not be opened as YAML or JSON.");
            var k = Numbers(fs["camera_matrix"], path, "camera_matrix");
            if (k.Length != 9) throw new InvalidDataException($"--intrinsics '{path}': camera_matrix must have 9 values (3x3), found {k.Length}.");
            var dn = fs["distortion_coefficients"];
            var d = dn is not null && !dn.Empty ? Numbers(dn, path, "distortion_coefficients") : [];
            if (d.Length is not (0 or 4 or 5 or 8 or 12 or 14)) throw new
                InvalidDataException($"--intrinsics '{path}': distortion_coefficients must have 4, 5, 8, 12 or 14 values, found {d.Length}.");
            var w = Int(fs["image_width"], path, "image_width");
            var h = Int(fs["image_height"], path, "image_height");
            if (k[0] <= 0 || k[4] <= 0) throw new InvalidDataException($"--intrinsics '{path}': the focal lengths (camera_matrix[0], [4]) must be " +
                $"positive.");
            // ROS camera_calibration also writes the rectification R (3x3) and projection P (3x4) that image_proc rectifies with.
            var r = Optional(fs["rectification_matrix"], path, "rectification_matrix", 9);
            var p = Optional(fs["projection_matrix"], path, "projection_matrix", 12);
            if (p is not null && (p[0] <= 0 || p[5] <= 0)) throw new InvalidDataException($"--intrinsics '{path}': the focal lengths of " +
                $"projection_matrix ([0], [5]) must be positive.");
            return new CameraIntrinsics(k[0], k[4], k[2], k[5], w, h) { Distortion = d, Rectification = r, Projection = p };
        }
    }

    private static double[]? Optional(FileNode? node, string path, string key, int count)
    {
        if (node is null || node.Empty) return null;
        var values = Numbers(node, path, key);
        return values.Length == count ? values : throw new InvalidDataException($"--intrinsics '{path}': {key} must have {count} values, found " +
            $"{values.Length}.");
    }

    private static int Int(FileNode? node, string path, string key)
    {
        if (node is null || node.Empty) throw new InvalidDataException($"--intrinsics '{path}' has no {key}; add the size of the images it was " +
            $"calibrated on.");
        var v = node.Type == FileNode.Types.Int ? node.ReadInt() : (int)Math.Round(node.ReadDouble());
        if (v < 1) throw new InvalidDataException($"--intrinsics '{path}': {key} must be positive.");
        return v;
    }

    /// <summary>A matrix node as its values, row-major: an OpenCV matrix, a map with data, or a plain sequence.</summary>
    private static double[] Numbers(FileNode? node, string path, string key)
    {
        if (node is null || node.Empty) throw new InvalidDataException($"--intrinsics '{path}' has no {key}.");
        if (node.IsMap)
        {
            var data = node["data"];
            if (data is null || data.Empty)
            {
                using var m = node.ReadMat();
                if (m.Empty()) throw new InvalidDataException($"--intrinsics '{path}': {key} has no data.");
                using var d64 = new Mat();
                m.ConvertTo(d64, MatType.CV_64F);
                d64.GetArray(out double[] values);
                return values;
            }
            node = data;
        }
        if (node is null) throw new InvalidDataException($"--intrinsics '{path}' has no {key}.");
        if (!node.IsSeq) throw new InvalidDataException($"--intrinsics '{path}': {key} must be a matrix or a list of numbers.");
        var list = new List<double>();
        foreach (var item in node) list.Add(item.Type == FileNode.Types.Int ? item.ReadInt() : item.ReadDouble());
        return list.ToArray();
    }
}
