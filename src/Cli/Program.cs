using RealtimeMtl.Cli.Commands;

return await RtmtlCli.RunAsync(args);
