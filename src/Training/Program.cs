using RealtimeMtl.Training.Cli;

return TrainingCli.Run(args);
