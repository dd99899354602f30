namespace RealtimeMtl.Distributed.Bus;

/// <summary>Subjects of per-frame results on the bus: <c>rtmtl.frames.{camera}</c> (subscribe to <c>rtmtl.frames.&gt;</c> for all).</summary>
public static class FrameSubjects
{
    public const string Prefix = "rtmtl.frames.";

    /// <summary>A camera or output name as one subject token: '.', '*', '&gt;' and whitespace become '_'.</summary>
    public static string CameraToken(string name)
    {
        var chars = name.Select(c => c is '.' or '*' or '>' or '/' || char.IsWhiteSpace(c) || char.IsControl(c) ? '_' : c).ToArray();
        var token = new string(chars).Trim('_');
        return token.Length == 0 ? "camera" : token;
    }

    public static string For(string camera) => Prefix + CameraToken(camera);
}
