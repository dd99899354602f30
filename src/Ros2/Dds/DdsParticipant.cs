namespace RealtimeMtl.Ros2.Dds;

/// <summary>
/// One DDS domain participant (ROS_DOMAIN_ID, default 0; the network settings come from CYCLONEDDS_URI as for any
/// Cyclone application) and the topics, writers and readers made on it. Disposing it deletes them all: the other
/// participants see this one leave at once instead of waiting out its lease.
/// </summary>
public sealed class DdsParticipant : IDisposable
{
    private readonly int _handle;
    private readonly Dictionary<string, int> _topics = [];
    private readonly object _gate = new();
    private bool _disposed;

    public int Domain { get; }

    public DdsParticipant(uint? domain = null)
    {
        CycloneDds.EnsureAvailable("ROS 2");
        Domain = (int)(domain ?? DomainFromEnvironment());
        _handle = CycloneDds.dds_create_participant((uint)Domain, IntPtr.Zero, IntPtr.Zero);
        if (_handle < 0)
            throw new DdsUnavailableException($"the DDS participant for ROS_DOMAIN_ID {Domain} could not start (DDS error {_handle}); check "
                + $"CYCLONEDDS_URI and the network interface it names.");
    }

    /// <summary>ROS_DOMAIN_ID, 0 when unset; a value outside 0..232 is refused as ROS 2 refuses it.</summary>
    public static uint DomainFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("ROS_DOMAIN_ID");
        if (string.IsNullOrWhiteSpace(text)) return 0;
        if (!uint.TryParse(text.Trim(), out var d) || d > 232)
            throw new DdsUnavailableException($"ROS_DOMAIN_ID '{text}' is not a domain id (0 to 232); unset it or set it to your robot's domain.");
        return d;
    }

    /// <summary>ROS 2's name mapping: the topic /a/b is the DDS topic rt/a/b.</summary>
    public static string DdsTopic(string rosTopic) => "rt" + (rosTopic.StartsWith('/') ? rosTopic : "/" + rosTopic);

    /// <summary>ROS 2's type mapping: sensor_msgs/msg/Image is sensor_msgs::msg::dds_::Image_.</summary>
    public static string DdsType(string rosType)
    {
        var parts = rosType.Split('/');
        if (parts.Length != 3) throw new ArgumentException($"'{rosType}' is not a ROS 2 type name (pkg/msg/Type)");
        return $"{parts[0]}::{parts[1]}::dds_::{parts[2]}_";
    }

    private int Topic(string rosTopic, string rosType)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_topics.TryGetValue(rosTopic, out var t)) return t;
            t = CycloneDds.rtmtl_dds_topic(_handle, DdsTopic(rosTopic), DdsType(rosType));
            if (t < 0) throw new ArgumentException($"the ROS 2 topic {rosTopic} ({rosType}) could not be made (DDS error {t}): another type on the "
                + $"same topic?");
            _topics[rosTopic] = t;
            return t;
        }
    }

    public DdsWriter Writer(string rosTopic, string rosType, DdsQos qos)
    {
        var topic = Topic(rosTopic, rosType);
        var w = CycloneDds.rtmtl_dds_writer(_handle, topic, qos.Reliable ? 1 : 0, qos.Depth, qos.TransientLocal ? 1 : 0);
        if (w < 0) throw new ArgumentException($"no DDS writer for {rosTopic} (DDS error {w})");
        return new DdsWriter(rosTopic, w);
    }

    public DdsReader Reader(string rosTopic, string rosType, DdsQos qos)
    {
        var topic = Topic(rosTopic, rosType);
        var r = CycloneDds.rtmtl_dds_reader(_handle, topic, qos.Reliable ? 1 : 0, qos.Depth, qos.TransientLocal ? 1 : 0, out var waitset);
        if (r < 0) throw new ArgumentException($"no DDS reader for {rosTopic} (DDS error {r})");
        return new DdsReader(rosTopic, r, waitset);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        // Deleting the participant deletes every entity made on it, and tells the peers it has gone.
        CycloneDds.dds_delete(_handle);
    }
}
