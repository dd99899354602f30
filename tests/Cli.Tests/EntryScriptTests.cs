namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// The ./rtmtl entry script as a user calls it: from another folder with relative paths (they are the caller's), and
/// through a symbolic link on the PATH. The suite has built everything, so the script only dispatches here.
/// </summary>
public class EntryScriptTests
{
    private static (int Code, string Out, string Err) Script(string script, string workingDirectory, params string[] args) =>
        Script(script, workingDirectory, null, args);

    private static (int Code, string Out, string Err) Script(string script, string workingDirectory, Dictionary<string, string>? env,
        params string[] args)
    {
        var psi = new ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException($"rtmtl {string.Join(' ', args)}"); }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Relative_paths_are_the_callers_and_the_script_works_through_a_symlink()
    {
        var home = Directory.CreateTempSubdirectory("rtmtl-caller-").FullName;
        try
        {
            var script = Path.Combine(Engine.Root, "rtmtl");
            // A clip written and then read by relative names, from a folder outside the repository.
            var made = Script(script, home, "run", "--source", "synthetic:frames=6,size=96x72", "--record", "clip.mp4", "--quiet");
            Assert.True(made.Code == 0, made.Err);
            Assert.True(File.Exists(Path.Combine(home, "clip.mp4")), "the recording is in the caller's folder");
            var run = Script(script, home, "run", "--source", "clip.mp4", "--record", "rel.mp4", "--max-frames", "3", "--quiet");
            Assert.True(run.Code == 0, run.Err);
            Assert.Equal(3, Engine.Probe(Path.Combine(home, "rel.mp4")).Frames);
            Assert.False(File.Exists(Path.Combine(Engine.Root, "rel.mp4")), "nothing is written into the repository");

            // Linked onto a PATH folder: the script finds its repository through the link.
            var bin = Directory.CreateDirectory(Path.Combine(home, "bin")).FullName;
            File.CreateSymbolicLink(Path.Combine(bin, "rtmtl"), script);
            var version = Script(Path.Combine(bin, "rtmtl"), home, "--version");
            Assert.True(version.Code == 0, version.Err);
            Assert.StartsWith("rtmtl ", version.Out);
            Assert.DoesNotContain("MSB1009", version.Out + version.Err);
            var info = Script(Path.Combine(bin, "rtmtl"), home, "info");
            Assert.True(info.Code == 0, info.Err);
            Assert.Contains("mtl_ssw_light.onnx", info.Out); // the shipped model is found from anywhere

            // eval goes to the engine by its --video option, in either spelling (parsed only: RTMTL_CHECK_ARGS).
            foreach (var form in new[] { new[] { "eval", "--video", "clip.mp4" }, new[] { "eval", "--video=clip.mp4" } })
            {
                var eval = Script(script, home, new Dictionary<string, string> { ["RTMTL_CHECK_ARGS"] = "1" }, form);
                Assert.True(eval.Code == 0, $"{string.Join(' ', form)}: {eval.Err}");
            }
        }
        finally { Directory.Delete(home, true); }
    }
}
