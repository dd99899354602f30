using System.Globalization;
using System.Text;
using OpenCvSharp;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Logging;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Pipeline.Sinks;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Sinks;

/// <summary>
/// Coloured, labelled point clouds from predicted depth (binary little-endian PLY: float x y z in metres, camera
/// frame x right / y down / z forward; uchar red green blue from the frame; uchar label), one vertex per pixel with
/// valid depth, every N-th frame. Intrinsics come from the source; without them, NYU-v2's scaled to the frame (said once).
/// </summary>
public sealed class PointCloudSink : IFrameSink
{
    private readonly FolderLock _lock;
    private readonly string _dir;
    private readonly int _every;
    private readonly LabelSet _labels;
    private readonly IEventLog _log;
    private bool _warned;

    public PointCloudSink(string dir, int every, LabelSet labels, IEventLog log)
    {
        _dir = dir;
        _every = Math.Max(1, every);
        _labels = labels;
        _log = log;
        _lock = FolderLock.Take(dir, "--save-pointcloud");
    }

    public string Name => "pointcloud";

    /// <summary>Reads labels and depth, never the drawn picture.</summary>

    public bool UsesPicture => false;
    public bool Lossless => true;
    public int Written { get; private set; }

    public ValueTask WriteAsync(FramePacket p, CancellationToken cancellationToken)
    {
        if (p.Sequence % _every != 0) return ValueTask.CompletedTask;
        var k = CameraIntrinsics.ForFrame(p.Frame.Intrinsics, p.Frame.Width, p.Frame.Height);
        if (p.Frame.Intrinsics is null && !_warned)
        {
            _warned = true;
            _log.Warning($"--save-pointcloud: the source gives no camera intrinsics; using NYU-v2 Kinect intrinsics scaled to " +
                $"{p.Frame.Width}x{p.Frame.Height} (fx {k.Fx:0.0}).");
        }
        var path = Path.Combine(_dir, p.Sequence.ToString("D6", CultureInfo.InvariantCulture) + ".ply");
        Write(path, p.Frame.Image, p.Depth, p.Labels, k, _labels);
        Written++;
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes one cloud; returns the number of vertices (valid depth pixels).</summary>
    public static unsafe int Write(string path, Mat bgr, Mat depth, Mat labels, CameraIntrinsics k, LabelSet labelSet)
    {
        int w = depth.Width, h = depth.Height;
        var d = (float*)depth.Data;
        var count = 0;
        for (var i = 0; i < w * h; i++) if (d[i] > 0 && float.IsFinite(d[i])) count++;
        // Built in memory (15 bytes a point plus the header), then written as one file (AtomicFile).
        using var fs = new MemoryStream(256 + count * 15);
        using (var bw = new BinaryWriter(fs, Encoding.ASCII, leaveOpen: true))
        {
            var header = new StringBuilder()
                .Append("ply\nformat binary_little_endian 1.0\n")
                .Append(CultureInfo.InvariantCulture, $"comment rtmtl predicted depth; labels {labelSet.Name}: " +
                    $"{string.Join(",", labelSet.Classes)}\n")
                .Append(CultureInfo.InvariantCulture, $"comment intrinsics fx {k.Fx:0.###} fy {k.Fy:0.###} cx {k.Cx:0.###} cy {k.Cy:0.###}\n")
                .Append(CultureInfo.InvariantCulture, $"element vertex {count}\n")
                .Append("property float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar " +
                    "blue\nproperty uchar label\nend_header\n");
            bw.Write(Encoding.ASCII.GetBytes(header.ToString()));
            var img = (byte*)bgr.Data;
            var lab = (byte*)labels.Data;
            for (var v = 0; v < h; v++)
                for (var u = 0; u < w; u++)
                {
                    var i = v * w + u;
                    var z = d[i];
                    if (!(z > 0) || !float.IsFinite(z)) continue;
                    var (x, y, _) = k.BackProject(u, v, z);
                    bw.Write(x); bw.Write(y); bw.Write(z);
                    bw.Write(img[i * 3 + 2]); bw.Write(img[i * 3 + 1]); bw.Write(img[i * 3]);
                    bw.Write(lab[i]);
                }
        }
        RealtimeMtl.Common.Files.AtomicFile.Write(path, fs.GetBuffer().AsSpan(0, (int)fs.Length));
        return count;
    }

    public ValueTask CompleteAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync()
    {
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }
}
