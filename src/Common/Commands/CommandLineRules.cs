namespace RealtimeMtl.Common.Commands;

/// <summary>The conventions both command lines (rtmtl and rtmtl-train) keep, in one place.</summary>
public static class CommandLineRules
{
    /// <summary>RTMTL_CHECK_ARGS=1: parse only and exit 0 (the README-commands test checks every documented line this way).</summary>
    public static bool CheckArgsOnly => Environment.GetEnvironmentVariable("RTMTL_CHECK_ARGS") == "1";

    /// <summary>A parse error: one short line, then where to look (not the whole help); exit code 2.</summary>
    public static int ParseError(TextWriter errors, string message, string commandPath)
    {
        errors.WriteLine($"error: {message}");
        errors.WriteLine($"see ./rtmtl {commandPath} --help".Replace("  ", " "));
        return 2;
    }
}
