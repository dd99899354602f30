namespace RealtimeMtl.Capture.Synthetic;

/// <summary>A camera position and heading: yaw about the vertical axis (0 looks along +z), pitch up/down (radians).</summary>
public readonly record struct CameraPose(Vec3 Position, double Yaw, double Pitch)
{
    public Vec3 Forward => new(Math.Sin(Yaw) * Math.Cos(Pitch), Math.Sin(Pitch), Math.Cos(Yaw) * Math.Cos(Pitch));
    public Vec3 Right => new(Math.Cos(Yaw), 0, -Math.Sin(Yaw));
    public Vec3 Up => Forward.Cross(Right);
}
