using System.Text.Json.Nodes;
using OpenCvSharp;
using RealtimeMtl.Capture.Frames;
using RealtimeMtl.Capture.Labels;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Serving.Foxglove;

/// <summary>
/// One packet as Foxglove messages (JSON with base64 data): the annotated JPEG, labels and depth as raw images, the
/// camera calibration, a coloured point cloud and the class map. Null when the packet has nothing for the channel.
/// </summary>
public sealed class FoxgloveEncoders(LabelSet labels, string frameId)
{
    private readonly ImageEncodingParam[] _jpeg = [new(ImwriteFlags.JpegQuality, 80)];

    public JsonObject? AnnotatedJpeg(FramePacket p, JsonObject stamp)
    {
        if (p.Rendered is null) return null;
        Cv2.ImEncode(".jpg", p.Rendered, out var jpg, _jpeg);
        return new JsonObject { ["timestamp"] = stamp.DeepClone(), ["frame_id"] = frameId, ["format"] = "jpeg", ["data"] = Convert.ToBase64String(jpg) };
    }

    public unsafe JsonObject Labels(FramePacket p, JsonObject stamp)
    {
        int w = p.Frame.Width, h = p.Frame.Height;
        return Raw(stamp, w, h, "mono8", w, new ReadOnlySpan<byte>((void*)p.Labels.Data, w * h));
    }

    /// <summary>32FC1 metres; invalid depth stays 0 or NaN (REP 118).</summary>
    public unsafe JsonObject Depth(FramePacket p, JsonObject stamp)
    {
        int w = p.Frame.Width, h = p.Frame.Height;
        return Raw(stamp, w, h, "32FC1", w * 4, new ReadOnlySpan<byte>((void*)p.Depth.Data, w * h * 4));
    }

    public JsonObject Calibration(FramePacket p, JsonObject stamp)
    {
        var k = CameraIntrinsics.ForFrame(p.Frame.Intrinsics, p.Frame.Width, p.Frame.Height);
        return new JsonObject
        {
            ["timestamp"] = stamp.DeepClone(), ["frame_id"] = frameId, ["width"] = p.Frame.Width, ["height"] = p.Frame.Height, ["distortion_model"] = k.DistortionModel,
            ["D"] = new JsonArray(k.DistortionOrZeros.Select(v => (JsonNode)v).ToArray()),
            ["K"] = new JsonArray(k.K.Select(v => (JsonNode)v).ToArray()),
            ["R"] = new JsonArray(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
            ["P"] = new JsonArray(k.P.Select(v => (JsonNode)v).ToArray()),
        };
    }

    /// <summary>Every 4th pixel in each direction with valid depth: x, y, z float32, rgba uint8 x4, label uint8 (stride 17).</summary>
    public unsafe JsonObject PointCloud(FramePacket p, JsonObject stamp)
    {
        int w = p.Frame.Width, h = p.Frame.Height;
        var k = CameraIntrinsics.ForFrame(p.Frame.Intrinsics, w, h);
        var d = (float*)p.Depth.Data; var img = (byte*)p.Frame.Image.Data; var lab = (byte*)p.Labels.Data;
        using var ms = new MemoryStream();
        using var bw = new BinaryWriter(ms);
        for (var v = 0; v < h; v += 4)
            for (var u = 0; u < w; u += 4)
            {
                var i = v * w + u;
                var z = d[i];
                if (!(z > 0) || !float.IsFinite(z)) continue;
                var (x, y, _) = k.BackProject(u, v, z);
                bw.Write(x); bw.Write(y); bw.Write(z);
                bw.Write(img[i * 3 + 2]); bw.Write(img[i * 3 + 1]); bw.Write(img[i * 3]); bw.Write((byte)255);
                bw.Write(lab[i]);
            }
        bw.Flush();
        JsonObject F(string name, int offset, int type) => new() { ["name"] = name, ["offset"] = offset, ["type"] = type };
        return new JsonObject
        {
            ["timestamp"] = stamp.DeepClone(), ["frame_id"] = frameId,
            ["pose"] = new JsonObject { ["position"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["z"] = 0 }, ["orientation"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["z"] = 0, ["w"] = 1 } },
            ["point_stride"] = 17,
            // foxglove.NumericType: UINT8 = 1, FLOAT32 = 7
            ["fields"] = new JsonArray(F("x", 0, 7), F("y", 4, 7), F("z", 8, 7), F("red", 12, 1), F("green", 13, 1), F("blue", 14, 1), F("alpha", 15, 1), F("label", 16, 1)),
            ["data"] = Convert.ToBase64String(ms.ToArray()),
        };
    }

    public JsonObject ClassMap(FramePacket p, JsonObject stamp) =>
        new() { ["classes"] = new JsonArray(labels.Classes.Select((n, i) => (JsonNode)new JsonObject { ["id"] = i, ["name"] = n, ["color"] = labels.Hex(i) }).ToArray()) };

    private JsonObject Raw(JsonObject stamp, int w, int h, string encoding, int step, ReadOnlySpan<byte> data) => new()
    {
        ["timestamp"] = stamp.DeepClone(), ["frame_id"] = frameId, ["width"] = w, ["height"] = h, ["encoding"] = encoding, ["step"] = step,
        ["data"] = Convert.ToBase64String(data),
    };
}
