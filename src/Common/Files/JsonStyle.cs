using System.Text.Json;

namespace RealtimeMtl.Common.Files;

/// <summary>
/// The JSON names of every file the project writes: snake_case, with its acronyms written as words, so
/// MeanIoU is mean_iou and WorkingSetMiB is working_set_mib (the framework's own policy gives mean_io_u, working_set_mi_b).
/// </summary>
public sealed class JsonStyle : JsonNamingPolicy
{
    public static JsonStyle SnakeCase { get; } = new();

    public override string ConvertName(string name) =>
        SnakeCaseLower.ConvertName(name.Replace("IoU", "Iou", StringComparison.Ordinal).Replace("MiB", "Mib", StringComparison.Ordinal));
}
