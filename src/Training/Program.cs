using RealtimeMtl.Training.Cli;

// Before anything touches TorchSharp: make its native library loadable on this host (idempotent, one line when it patches).
RealtimeMtl.Training.Native.LibTorchNativeFix.EnsureLoadable();
return TrainingCli.Run(args);
