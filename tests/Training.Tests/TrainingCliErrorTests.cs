using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using RealtimeMtl.Tests.Support;

namespace RealtimeMtl.Training.Tests;

/// <summary>The training commands fail like the engine does: one error line naming the input, exit 2, no stack trace.</summary>
public class TrainingCliErrorTests
{
    [Theory]
    [InlineData("train")]
    [InlineData("export")]
    [InlineData("ablate")]
    public void Help_usage_lines_name_the_command_users_type(string command)
    {
        // Users reach the training commands through the rtmtl script: its usage line, not the executable's name.
        var r = TrainProcess.Run($"{command} --help");
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Contains($"rtmtl {command} [options]", r.Stdout);
        Assert.DoesNotContain("rtmtl-train", r.Stdout);
    }

    [Theory]
    [InlineData("train --arch nope --epochs 1 --limit 8", "nope")]
    [InlineData("train --dataset nyu-mat --data /nonexistent.mat --epochs 1", "/nonexistent.mat")]
    [InlineData("eval --run /nonexistent", "/nonexistent")]
    [InlineData("eval --run runs/no-such-run", "runs/no-such-run")]
    [InlineData("export --run /nonexistent --out /tmp/rtmtl-never.onnx", "/nonexistent")]
    [InlineData("export --onnx /etc/passwd --precision int8 --out /tmp/rtmtl-never.onnx", "/etc/passwd")]
    [InlineData("ablate --variants foo --epochs 1 --limit 8", "foo")]
    [InlineData("ablate --variants mtl --sw-inits 0.9 --epochs 1 --limit 8", "--sw-inits")]
    [InlineData("synth --out /proc/x --count 2", "/proc/x")]
    [InlineData("train --dataset synthetic --epochs 1 --limit 8 --batch 0", "--batch")]
    [InlineData("export --onnx /nonexistent.onnx --precision fp16 --test-samples 0 --out /tmp/rtmtl-never.onnx", "/nonexistent.onnx")]
    // Issue 22's training probes: each was an "unexpected ... (a bug)" exit 1, a silent overwrite or a silent restart.
    [InlineData("synth --size 100000x100000 --count 1 --out /tmp/rtmtl-never-synth", "--size '100000x100000'")]
    [InlineData("train --epochs 1 --limit 8 --resume", "--resume")]
    [InlineData("train --epochs 1 --limit 8 --resume --out /tmp/rtmtl-no-such-run", "/tmp/rtmtl-no-such-run")]
    [InlineData("eval --onnx models/mtl_ssw_light.onnx --samples 2 --json /proc/rtmtl-metrics.json", "--json '/proc/rtmtl-metrics.json'")]
    public void A_bad_input_is_one_error_line_naming_it_and_exit_2(string args, string named)
    {
        var r = TrainProcess.Run(args);
        Assert.True(r.Code == 2, $"exit {r.Code}\n{r.Stderr}");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.Stderr);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("Unhandled exception", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void Export_refuses_an_out_that_is_its_onnx_input_and_leaves_it_unchanged()
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-same-").FullName;
        try
        {
            var model = Path.Combine(dir, "m.onnx");
            File.Copy(Path.Combine(TrainProcess.Root, "models", "mtl_ssw_light.onnx"), model);
            var before = File.ReadAllBytes(model);
            File.CreateSymbolicLink(Path.Combine(dir, "link.onnx"), model);
            foreach (var target in new[] { model, Path.Combine(dir, "link.onnx"), Path.Combine(dir, ".", "m.onnx") })
            {
                var r = TrainProcess.Run($"export --onnx {model} --precision fp16 --no-eval --out {target}");
                Assert.True(r.Code == 2, $"exit {r.Code}: {r.Stderr}");
                Assert.Contains("is the --onnx input", r.Stderr);
            }
            Assert.Equal(before, File.ReadAllBytes(model));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void An_unwritable_out_names_the_cause_and_the_fix()
    {
        var r = TrainProcess.Run("synth --out /proc/x --count 2");
        Assert.Contains("kernel file system", r.Stderr);
        Assert.Contains("choose another --out", r.Stderr);
        // A refused download names no .part file that does not exist.
        var fetch = TrainProcess.Run("data fetch nyu --to /tmp/rtmtl-never-fetch2 --url http://127.0.0.1:9/mirror/");
        Assert.Equal(2, fetch.Code);
        Assert.StartsWith("error: could not download http://127.0.0.1:9/mirror/", fetch.Stderr.Trim().Split('\n')[^1]);
        Assert.DoesNotContain(".part", fetch.Stderr);
        Assert.DoesNotContain("a bug", fetch.Stderr);
    }

    [Fact]
    public void A_parse_error_is_one_short_line_with_where_to_look_and_exit_2()
    {
        var r = TrainProcess.Run("train --epochs banana");
        Assert.Equal(2, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains("banana", lines[0]);
        Assert.Equal("see ./rtmtl train --help", lines[1].Trim());
        Assert.DoesNotContain("Options:", r.Stdout + r.Stderr);
    }

    [Fact]
    public void Fp16_of_an_untrained_paper_sized_model_needs_no_data_and_honours_no_eval()
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-fp16-").FullName;
        try
        {
            var paper = Path.Combine(dir, "paper.onnx");
            var r = TrainProcess.Run($"export --untrained mtl_ssw --size paper --tiled-weights --out {paper}");
            Assert.True(r.Code == 0, r.Stderr);
            var half = Path.Combine(dir, "paper.fp16.onnx");
            r = TrainProcess.Run($"export --onnx {paper} --precision fp16 --no-eval --out {half}");
            Assert.True(r.Code == 0, r.Stderr);
            Assert.DoesNotContain("evaluating", r.Stderr);
            // Weights in float16: about half the float file.
            Assert.InRange(new FileInfo(half).Length, new FileInfo(paper).Length * 0.45, new FileInfo(paper).Length * 0.55);
            Assert.Contains("not evaluated", r.Stdout);
            Assert.Contains("without evaluation", File.ReadAllText(Path.ChangeExtension(half, ".md")));
            // Without --no-eval an untrained model is still converted, with a note instead of a failure.
            r = TrainProcess.Run($"export --onnx {paper} --precision fp16 --out {Path.Combine(dir, "again.onnx")}");
            Assert.True(r.Code == 0, r.Stderr);
            Assert.Contains("written without evaluation", r.Stderr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void No_eval_skips_evaluation_of_a_synthetic_model_too()
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-noeval-").FullName;
        try
        {
            var r = TrainProcess.Run($"export --onnx {TrainProcess.ShippedModel} --precision fp16 --no-eval --out " +
                $"{Path.Combine(dir, "light16.onnx")}");
            Assert.True(r.Code == 0, r.Stderr);
            Assert.DoesNotContain("evaluating", r.Stderr);
            Assert.True(File.Exists(Path.Combine(dir, "light16.onnx")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Ctrl_c_during_training_saves_a_checkpoint_prints_the_resume_command_and_resume_continues_the_epochs()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rtmtl-int-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var args = $"train --arch mtl --dataset synthetic --epochs 4 --limit 32 --val-samples 8 --input-size 128x96 --device cpu -q --out {dir}";
            var r = await TrainProcess.RunAsync(args, "epoch 1/4:", p => TrainProcess.Signal(p, 2));
            Assert.True(r.Code == 130, $"exit {r.Code}\n{r.Stderr}");
            Assert.Contains("interrupted: training interrupted after", r.Stderr);
            Assert.Contains($"resume with: ./rtmtl {args} --resume", r.Stderr);
            var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "state.json"))).RootElement;
            var done = state.GetProperty("epochs_done").GetInt32();
            Assert.InRange(done, 1, 3);
            Assert.True(File.Exists(Path.Combine(dir, "last.pt")));

            r = TrainProcess.Run(args + " --resume");
            Assert.True(r.Code == 0, r.Stderr);
            Assert.Contains($"after epoch {done}", r.Stderr);
            // The epochs after the checkpoint, and only those, ran: the count continues to 4.
            var epochLines = r.Stderr.Split('\n').Where(l => l.StartsWith("epoch ") && l.Contains("/4:")).Select(l => l.Split(' ')[1]).ToList();
            Assert.Equal(Enumerable.Range(done + 1, 4 - done).Select(e => $"{e}/4:"), epochLines);
            state = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "state.json"))).RootElement;
            Assert.Equal(4, state.GetProperty("epochs_done").GetInt32());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

/// <summary>Runs the built rtmtl-train as a user would, from the repository root.</summary>
internal static class TrainProcess
{
    public static string Root { get; } = FindRoot();
    public static string ShippedModel => Path.Combine(Root, "models", "mtl_ssw_light.onnx");

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RealtimeMtl.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    private static string Dll =>
        new[] { "Release", "Debug" }.Select(c => Path.Combine(Root, "src", "Training", "bin", c, "net10.0",
            "rtmtl-train.dll")).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("rtmtl-train.dll is not built; run ./rtmtl build");

    public sealed record Result(int Code, string Stdout, string Stderr);

    public static Result Run(string args) => RunAsync(args, null, null).GetAwaiter().GetResult();

    /// <summary>
    /// One plain start before the first test's: rtmtl-train's start-up step may patch LibTorchSharp once per build
    /// (and says so in a line), which must not land in a test's exact stderr.
    /// </summary>
    private static readonly Lazy<bool> Prepared = new(() =>
    {
        using var p = Process.Start(new ProcessStartInfo("dotnet", $"\"{Dll}\" --version")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true
        })!;
        p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return true;
    });

    public static async Task<Result> RunAsync(string args, string? waitFor, Action<Process>? then, int timeoutMs = 300_000,
        string? workingDirectory = null)
    {
        _ = Prepared.Value;
        var psi = new ProcessStartInfo("dotnet", $"\"{Dll}\" {args}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Root
        };
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var seen = new TaskCompletionSource();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (waitFor is not null && e.Data.StartsWith(waitFor, StringComparison.Ordinal)) seen.TrySetResult();
        };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeoutMs);
        if (waitFor is not null && then is not null)
        {
            await Task.WhenAny(seen.Task, p.WaitForExitAsync(cts.Token));
            if (seen.Task.IsCompleted) then(p);
        }
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw new TimeoutException($"rtmtl-train {args} did not finish: {stderr}"); }
        p.WaitForExit();
        // rtmtl-train's start-up line on machines where it caps oneDNN is not part of any command's answer.
        var errors = string.Join("", stderr.ToString().Split('\n').Where(l => !l.StartsWith("rtmtl-train: oneDNN ",
            StringComparison.Ordinal)).Select(l => l + "\n")).TrimEnd('\n');
        return new Result(p.ExitCode, stdout.ToString(), errors.Length > 0 ? errors + "\n" : "");
    }


    public static void Signal(Process p, int signal) => Signals.Send(p.Id, signal);
}
