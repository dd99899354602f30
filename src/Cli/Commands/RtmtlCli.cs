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
        };
        return await root.Parse(args).InvokeAsync();
    }
}
