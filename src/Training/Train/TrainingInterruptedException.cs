namespace RealtimeMtl.Training.Train;

/// <summary>Ctrl+C during training: the checkpoint to resume from has been written.</summary>
public sealed class TrainingInterruptedException(string runDir, int epochsDone, int epochs)
    : Exception($"training interrupted after {epochsDone} of {epochs} epochs; checkpoint saved in {runDir}")
{
    public string RunDir { get; } = runDir;
    public int EpochsDone { get; } = epochsDone;
    public int Epochs { get; } = epochs;
}
