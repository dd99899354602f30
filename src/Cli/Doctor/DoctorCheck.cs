namespace RealtimeMtl.Cli.Doctor;

public enum DoctorStatus { Ok, Note, Missing }

/// <summary>One line of <c>rtmtl doctor</c>: what was looked at, what was found, and the fix where there is one.</summary>
public sealed record DoctorCheck(string Area, string Name, DoctorStatus Status, string Detail, string? Fix = null);
