using System.Diagnostics;
using System.Globalization;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Capture.Tests;

internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rtmtl-test-"
        + Guid.NewGuid().ToString("N")[..8]));
    public string Path { get; }
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

internal static class Tools
{
    /// <summary>The pixels of a continuous Mat as bytes, for exact comparisons.</summary>
    public static byte[] Bytes(OpenCvSharp.Mat m)
    {
        var b = new byte[m.Total() * m.ElemSize()];
        System.Runtime.InteropServices.Marshal.Copy(m.Data, b, 0, b.Length);
        return b;
    }

    /// <summary>Runs a Debian tool; a missing tool fails the test with the package to install.</summary>
    public static string Require(string tool, string package)
    {
        foreach (var dir in new[] { "/usr/bin", "/usr/local/bin", "/bin" })
        {
            var p = Path.Combine(dir, tool);
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException($"{tool} is missing: install the Debian package '{package}' (./rtmtl test installs it).");
    }

    public static (int Code, string Out) Run(string exe, string args, int timeoutMs = 60000)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs)) { p.Kill(true); throw new TimeoutException($"{exe} {args} timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    public static async Task<List<Frame>> ReadAll(IFrameSource source, int max = int.MaxValue)
    {
        var list = new List<Frame>();
        await foreach (var f in source.ReadAllAsync())
        {
            list.Add(f);
            if (list.Count >= max) break;
        }
        return list;
    }

    public static bool IsListening(int port) => RealtimeMtl.Tests.Shared.LoopbackPorts.IsListening(port);

    public static int FreePort() => RealtimeMtl.Tests.Shared.LoopbackPorts.Free();
}
