using System.Text.Json.Nodes;

namespace RealtimeMtl.Serving.Foxglove;

/// <summary>JSON schemas of the Foxglove message types the channels publish (jsonschema encoding).</summary>
public static class FoxgloveSchemas
{
    public static string For(string name)
    {
        var time = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["sec"] = new JsonObject { ["type"] = "integer" }, ["nsec"] = new JsonObject { ["type"] = "integer" } } };
        JsonObject Props(params (string, string)[] fields)
        {
            var props = new JsonObject { ["timestamp"] = time.DeepClone(), ["frame_id"] = new JsonObject { ["type"] = "string" } };
            foreach (var (f, t) in fields) props[f] = t == "bytes" ? new JsonObject { ["type"] = "string", ["contentEncoding"] = "base64" } : new JsonObject { ["type"] = t };
            return props;
        }
        var schema = name switch
        {
            "foxglove.CompressedImage" => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = Props(("format", "string"), ("data", "bytes")) },
            "foxglove.RawImage" => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = Props(("width", "integer"), ("height", "integer"), ("encoding", "string"), ("step", "integer"), ("data", "bytes")) },
            "foxglove.CameraCalibration" => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = Props(("width", "integer"), ("height", "integer"), ("distortion_model", "string"), ("D", "array"), ("K", "array"), ("R", "array"), ("P", "array")) },
            "foxglove.PointCloud" => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = Props(("pose", "object"), ("point_stride", "integer"), ("fields", "array"), ("data", "bytes")) },
            _ => new JsonObject { ["title"] = name, ["type"] = "object", ["properties"] = new JsonObject { ["classes"] = new JsonObject { ["type"] = "array" } } },
        };
        return schema.ToJsonString();
    }
}
