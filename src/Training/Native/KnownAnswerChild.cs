using System.Diagnostics;
using System.Text.Json;

namespace RealtimeMtl.Training.Native;

/// <summary>
/// Runs <see cref="ConvolutionKnownAnswer"/> in a child process (<c>rtmtl-train onednn-check</c>) and reads its
/// answer. A child killed by a signal (oneDNN's SIGFPE) or hung past the timeout counts as a failed check.
/// </summary>
public static class KnownAnswerChild
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>The command that starts the check with oneDNN capped at <paramref name="maxIsa"/> (null: uncapped).</summary>
    public static ProcessStartInfo Command(string? maxIsa)
    {
        var trainer = typeof(KnownAnswerChild).Assembly.Location;
        var host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(trainer);
        psi.ArgumentList.Add("onednn-check");
        if (maxIsa is null) psi.Environment.Remove("ONEDNN_MAX_CPU_ISA");
        else psi.Environment["ONEDNN_MAX_CPU_ISA"] = maxIsa;
        psi.Environment["TORCH_CPP_LOG_LEVEL"] = "ERROR";
        return psi;
    }

    public static KnownAnswerOutcome Run(ProcessStartInfo psi, TimeSpan? timeout = null)
    {
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? Timeout))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            return new KnownAnswerOutcome(false, true, -1, $"the check did not finish within {(timeout ?? Timeout).TotalSeconds:0} s");
        }
        p.WaitForExit();
        var code = p.ExitCode;
        // .NET reports a child killed by signal N as exit code 128 + N, as shells do.
        if (code > 128 && code < 128 + 32)
            return new KnownAnswerOutcome(false, true, code, $"the check process was killed by {SignalName(code - 128)}");
        var text = stdout.Result.Trim().Split('\n').LastOrDefault(l => l.StartsWith('{')) ?? "";
        try
        {
            using var doc = JsonDocument.Parse(text);
            var wrong = doc.RootElement.GetProperty("cases").EnumerateArray()
                .Where(c => !c.GetProperty("ok").GetBoolean())
                .Select(c => ConvolutionKnownAnswer.Describe(new ConvolutionCaseResult(c.GetProperty("name").GetString()!,
                    c.GetProperty("max_abs_diff").GetDouble(), c.GetProperty("tolerance").GetDouble(), false)))
                .ToList();
            var count = doc.RootElement.GetProperty("cases").GetArrayLength();
            return wrong.Count == 0 && code == 0
                ? KnownAnswerOutcome.Pass($"{count} convolutions (3x3, dilated 2 and 4, 1x1, strided) match a direct reference")
                : new KnownAnswerOutcome(false, false, code, "wrong results: " + string.Join("; ", wrong));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            var last = stderr.Result.Trim().Split('\n').LastOrDefault() ?? "";
            return new KnownAnswerOutcome(false, true, code,
                $"the check process exited {code} without an answer{(last.Length > 0 ? ": " + last : "")}");
        }
    }

    private static string SignalName(int signal) => signal switch
    {
        4 => "SIGILL (illegal instruction)",
        6 => "SIGABRT",
        8 => "SIGFPE (arithmetic fault, such as a division by zero)",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        _ => $"signal {signal}",
    };
}
