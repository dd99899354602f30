namespace RealtimeMtl.Capture.Sources;

/// <summary>Reads depth images in the formats RGB-D data sets use, into metres (CV_32FC1, 0 = invalid).</summary>
public static class DepthImage
{
    /// <summary>A 16-bit single-channel PNG whose value / <paramref name="unitsPerMetre"/> is metres (TUM: 5000, NYU/mm: 1000).</summary>
    public static Mat LoadPng16(string path, double unitsPerMetre)
    {
        if (!File.Exists(path)) throw new SourceException($"depth image '{path}' is missing; the sequence is incomplete.");
        using var raw = Cv2.ImRead(path, ImreadModes.Unchanged);
        if (raw.Empty()) throw new SourceException($"depth image '{path}' could not be decoded; the file is corrupt.");
        if (raw.Type() == MatType.CV_32FC1)
        {
            var metres = raw.Clone();
            SanitiseInPlace(metres);
            return metres;
        }
        if (raw.Type() != MatType.CV_16UC1)
            throw new SourceException($"depth image '{path}' is {Describe(raw.Type())}, not a 16-bit single-channel PNG; depth must be stored as " +
                $"PNG16.");
        var result = new Mat();
        raw.ConvertTo(result, MatType.CV_32FC1, 1.0 / unitsPerMetre);
        return result;
    }

    /// <summary>Non-finite and negative depths become 0 (invalid). Returns how many pixels were valid.</summary>
    public static int SanitiseInPlace(Mat depth)
    {
        if (depth.Type() != MatType.CV_32FC1) throw new ArgumentException("depth must be CV_32FC1", nameof(depth));
        Cv2.PatchNaNs(depth, 0);
        using var bad = new Mat();
        Cv2.InRange(depth, new Scalar(0), new Scalar(float.MaxValue), bad);
        Cv2.BitwiseNot(bad, bad);
        depth.SetTo(0, bad);
        return Cv2.CountNonZero(depth);
    }

    private static string Describe(MatType t)
        => $"{t.Depth switch { MatType.CV_8U => "8-bit", MatType.CV_16U => "16-bit", MatType.CV_32F => "float", _ => "unsupported" }} with " +
            $"{t.Channels} channel(s)";
}
