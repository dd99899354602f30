using System.Runtime.InteropServices;

namespace RealtimeMtl.Cli;

/// <summary>
/// OpenCV and its bundled FFmpeg print their own warnings ("moov atom not found", "[ WARN:0] ... VIDEOIO") on
/// stderr; the engine already says what went wrong in one line of its own. Unless --verbose, they are told to stay
/// quiet. They read these variables from the native environment when first used, so this goes through libc's setenv
/// (.NET's Environment.SetEnvironmentVariable does not reach native code) before any OpenCV call. A value the user
/// set is kept.
/// </summary>
internal static class NativeLogs
{
    public static void Configure(bool verbose)
    {
        if (verbose) return;
        Quiet("OPENCV_LOG_LEVEL", "ERROR");
        Quiet("OPENCV_FFMPEG_LOGLEVEL", "-8"); // AV_LOG_QUIET
    }

    private static void Quiet(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null) return;
        _ = setenv(name, value, 0);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
