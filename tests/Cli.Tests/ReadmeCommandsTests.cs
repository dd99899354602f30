using System.Text.RegularExpressions;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// Every ./rtmtl command line in README.md names a real command with real options (parsed by the CLI that runs it,
/// nothing executed), and the ones README says run on a fresh clone do not write over the shipped models.
/// </summary>
public class ReadmeCommandsTests
{
    private static IEnumerable<string> Commands()
    {
        var inBlock = false;
        var variables = new Dictionary<string, string>();
        // README is the guide; docs/ holds the detail pages: their commands are checked alike.
        var pages = new[] { Path.Combine(Engine.Root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(Engine.Root, "docs"),
            "*.md").Order(StringComparer.Ordinal));
        foreach (var raw in pages.SelectMany(File.ReadAllLines))
        {
            if (raw.StartsWith("```")) { inBlock = !inBlock; continue; }
            if (!inBlock) continue;
            // NAME="..." lines set shell variables that later lines of README use as $NAME.
            if (Regex.Match(raw, "^([A-Z_]+)=\"([^\"]*)\"$") is { Success: true } v) { variables[v.Groups[1].Value] = v.Groups[2].Value; continue; }
            var line = Regex.Replace(raw, @"\s+#\s.*$", "").Trim();          // drop trailing comments
            line = Regex.Replace(line, @"^(\w+=\S+\s+)+", "");               // environment prefixes
            if (!line.StartsWith("./rtmtl ")) continue;
            foreach (var (name, value) in variables) line = line.Replace("$" + name, value);
            if (line.EndsWith('\\')) continue;                                 // continued lines are checked by hand
            yield return Regex.Replace(line, @"\s\[[^\]]*\]", "");           // optional parts written as [--x]
        }
    }

    [Fact]
    public void Every_readme_command_parses_with_the_cli_that_runs_it()
    {
        var commands = Commands().ToList();
        Assert.True(commands.Count > 25, $"found only {commands.Count} commands in README.md");
        var trainer = Path.Combine(Engine.Root, "src", "Training", "bin", "Release", "net10.0", "rtmtl-train.dll");
        var failures = new List<string>();
        foreach (var command in commands)
        {
            var args = command["./rtmtl ".Length..];
            var sub = args.Split(' ')[0];
            if (sub is "demo" or "test" or "build" or "help" or "--version") continue; // the script's own verbs
            // The script sends these to rtmtl-train (eval is the engine's: it hands --run/--onnx on itself).
            var toTrainer = sub is "train" or "export" or "ablate" or "synth" or "import" or "data" or "bench-eager";
            if (toTrainer && !File.Exists(trainer)) throw new InvalidOperationException("rtmtl-train is not built; run ./rtmtl build");
            var psi = new ProcessStartInfo("dotnet", $"\"{(toTrainer ? trainer : Engine.Dll)}\" {args}")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true, WorkingDirectory = Engine.Root
            };
            psi.Environment["RTMTL_CHECK_ARGS"] = "1";
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) failures.Add($"{command}\n    -> {err.Trim()}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void No_readme_command_writes_into_models()
    {
        var writers = Commands().Where(c => Regex.IsMatch(c, @"--(out|record|save-raw|stats-json|json)\s+models/")).ToList();
        Assert.True(writers.Count == 0, "README commands writing over shipped models:\n" + string.Join("\n", writers));
    }
}
