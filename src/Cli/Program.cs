using RealtimeMtl.Cli;
using RealtimeMtl.Cli.Commands;

NativeLogs.Configure(verbose: args.Contains("--verbose"));
// A standard output that cannot be written is one line and exit 3, not a stack trace (Common/Commands/StandardOutput).
RealtimeMtl.Common.Commands.StandardOutput.Install();
return RealtimeMtl.Common.Commands.StandardOutput.Finish(await RtmtlCli.RunAsync(args));
