using System.CommandLine;

namespace RealtimeMtl.Cli.Commands;

/// <summary>The engine's command line: run, demo, bench, info.</summary>
public static class RtmtlCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("""
            rtmtl: real-time joint semantic segmentation and depth estimation (MTL_SSW) from cameras, videos, streams and RGB-D sequences.
            Training commands (train, eval, export, ablate, synth) are in rtmtl-train; the ./rtmtl script dispatches to both.
            """)
        {
            RunCommand.Build(),
            DemoCommand.Build(),
            InfoCommand.Build(),
            BenchCommand.Build(),
            EvalCommand.Build(),
            DoctorCommand.Build(),
            Distributed.WorkerCommand.Build(),
            Distributed.SubmitCommand.Build(),
            Distributed.JobsCommand.Build(),
        };
        if (args is ["--version"])
        {
            Console.WriteLine(VersionText());
            return 0;
        }
        try { args = RealtimeMtl.Common.Commands.ResponseFiles.Expand(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        // Response files are expanded above (loops and binary files refused); the parser takes the tokens as they are.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0) return RealtimeMtl.Common.Commands.CommandLineRules.ParseError(Console.Error, parse.Errors[0].Message,
            CommandPath(parse));
        if (RealtimeMtl.Common.Commands.CommandLineRules.CheckArgsOnly) return 0;
        return await parse.InvokeAsync();
    }

    /// <summary>Version and git commit, ONNX Runtime's version and build flavour, and its execution providers.</summary>
    public static string VersionText()
    {
        var (version, commit) = RealtimeMtl.Serving.EngineMetrics.BuildVersion();
        var ort = Microsoft.ML.OnnxRuntime.OrtEnv.Instance();
        var flavour = RealtimeMtl.Inference.ExecutionProviders.IsGpuBuild ? "GPU" : "CPU";
        var providers = string.Join(", ", ort.GetAvailableProviders());
        return $"""
            rtmtl {version} (commit {commit})
            ONNX Runtime {ort.GetVersionString()} ({flavour} build); providers: {providers}
            .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}
            """;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            if (c.Command is not RootCommand) names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }
}
