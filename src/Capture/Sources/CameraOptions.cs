namespace RealtimeMtl.Capture.Sources;

/// <summary>What to ask a camera for. The camera may ignore any of it; what it delivers is reported.</summary>
public sealed record CameraOptions(int Width = 640, int Height = 480, double Fps = 30, string FourCC = "MJPG");
