namespace RealtimeMtl.Inference;

/// <summary>What warming the model up took: runs until two agreed within 20 %, their total time, and the last run.</summary>
public sealed record WarmUpResult(int Runs, double TotalMs, double LastRunMs);
