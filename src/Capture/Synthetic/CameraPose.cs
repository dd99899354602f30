namespace RealtimeMtl.Capture.Synthetic;

/// <summary>
/// A camera position and heading: yaw about the vertical axis (0 looks along +z), pitch up/down and roll about the
/// optical axis (radians; positive roll turns the image clockwise as seen by the camera's user).
/// </summary>
public readonly record struct CameraPose(Vec3 Position, double Yaw, double Pitch, double Roll = 0)
{
    public Vec3 Forward => new(Math.Sin(Yaw) * Math.Cos(Pitch), Math.Sin(Pitch), Math.Cos(Yaw) * Math.Cos(Pitch));

    public Vec3 Right
    {
        get
        {
            var level = new Vec3(Math.Cos(Yaw), 0, -Math.Sin(Yaw));
            if (Roll == 0) return level;
            var up = Forward.Cross(level);
            return level * Math.Cos(Roll) - up * Math.Sin(Roll);
        }
    }

    public Vec3 Up => Forward.Cross(Right);
}
