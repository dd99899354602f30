namespace RealtimeMtl.Training.Native;

/// <summary>
/// Whether LibTorch's oneDNN runs at full speed on this machine or capped to an instruction set, and why.
/// <see cref="MaxIsa"/> is the value given to ONEDNN_MAX_CPU_ISA, or null when oneDNN is left as it is.
/// </summary>
public sealed record OneDnnDecision(string? MaxIsa, string Cause, IReadOnlyList<string> Evidence, bool ChosenByUser = false)
{
    public bool Constrained => MaxIsa is not null && !ChosenByUser;
}
