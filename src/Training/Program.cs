using RealtimeMtl.Training.Cli;
using RealtimeMtl.Training.Native;

// Before anything touches TorchSharp: make its native library loadable on this host (idempotent, one line when it patches).
LibTorchNativeFix.EnsureLoadable();
// Before TorchSharp's first call: what .NET's finalizer releases is freed late, never under a running call (Native/TorchFinalizerGuard.cs).
TorchFinalizerGuard.Install();
// The known-answer child of the oneDNN decision runs as it was started (its parent set the cap to test).
if (args is ["onednn-check", ..]) return ConvolutionKnownAnswer.RunChild(Console.Out);
// Before LibTorch's first convolution: cap oneDNN where it is not safe on this machine (one line when it does).
OneDnnGuard.Prepare(verbose: args.Contains("--verbose"));
// A standard output that cannot be written is one line and exit 3, not a stack trace (Common/Commands/StandardOutput).
RealtimeMtl.Common.Commands.StandardOutput.Install();
return RealtimeMtl.Common.Commands.StandardOutput.Finish(TrainingCli.Run(args));
