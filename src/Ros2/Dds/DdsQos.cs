namespace RealtimeMtl.Ros2.Dds;

/// <summary>The QoS of a topic, in ROS 2's terms.</summary>
public readonly record struct DdsQos(bool Reliable, int Depth, bool TransientLocal)
{
    /// <summary>rmw_qos_profile_sensor_data: best effort, keep last 5, volatile.</summary>
    public static DdsQos SensorData { get; } = new(false, 5, false);

    /// <summary>Reliable, keep last 5, volatile (--ros2-reliable).</summary>
    public static DdsQos ReliableData { get; } = new(true, 5, false);

    /// <summary>A latched topic (/tf_static, classes): reliable, transient local, keep last 1.</summary>
    public static DdsQos Latched { get; } = new(true, 1, true);
}
