using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench -- --filter '*'          (all)
// dotnet run -c Release --project bench -- --filter '*Synthetic*'
BenchmarkSwitcher.FromAssembly(typeof(RealtimeMtl.Bench.SyntheticRenderBenchmarks).Assembly).Run(args);
