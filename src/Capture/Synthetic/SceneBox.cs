namespace RealtimeMtl.Capture.Synthetic;

/// <summary>An axis-aligned box in world coordinates (metres; y up, floor at y = 0), with its NYU-13 label.</summary>
public sealed record SceneBox(Vec3 Min, Vec3 Max, byte Label, Material Material);

/// <summary>A flat rectangle painted on a room face (window, picture): label and look change, depth does not.</summary>
public sealed record WallDecal(int Face, double A0, double B0, double A1, double B1, byte Label, Material Material);
