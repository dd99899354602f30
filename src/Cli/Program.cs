using RealtimeMtl.Cli;
using RealtimeMtl.Cli.Commands;

NativeLogs.Configure(verbose: args.Contains("--verbose"));
return await RtmtlCli.RunAsync(args);
