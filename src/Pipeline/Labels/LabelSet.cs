using RealtimeMtl.Common.Colours;

namespace RealtimeMtl.Pipeline.Labels;

/// <summary>A named list of classes with one BGR palette colour each. Index 255 is the ignore label.</summary>
public sealed class LabelSet
{
    public const byte Ignore = 255;

    public LabelSet(string name, IReadOnlyList<string> classes, IReadOnlyList<(byte B, byte G, byte R)>? palette = null)
    {
        if (classes.Count is 0 or > 255) throw new ArgumentException("a label set has 1 to 255 classes", nameof(classes));
        Name = name;
        Classes = classes;
        Palette = palette ?? DistinctColours.Make(classes.Count);
        if (Palette.Count != classes.Count) throw new ArgumentException("one palette colour per class", nameof(palette));
    }

    public string Name { get; }
    public IReadOnlyList<string> Classes { get; }
    public IReadOnlyList<(byte B, byte G, byte R)> Palette { get; }
    public int Count => Classes.Count;

    /// <summary>The colour of class <paramref name="c"/> as "#rrggbb" (web pages, Foxglove, feeds, model metadata).</summary>
    public string Hex(int c) => ToHex(Palette[c]);

    /// <summary>All colours as "#rrggbb", in class order.</summary>
    public IEnumerable<string> HexPalette() => Palette.Select(ToHex);

    public static string ToHex((byte B, byte G, byte R) c) => $"#{c.R:x2}{c.G:x2}{c.B:x2}";

    /// <summary>Parses "#rrggbb"; false for anything else.</summary>
    public static bool TryParseHex(string s, out (byte B, byte G, byte R) colour)
    {
        colour = default;
        if (s.Length != 7 || s[0] != '#' || !int.TryParse(s.AsSpan(1), System.Globalization.NumberStyles.HexNumber,
            System.Globalization.CultureInfo.InvariantCulture, out var rgb)) return false;
        colour = ((byte)(rgb & 0xff), (byte)((rgb >> 8) & 0xff), (byte)(rgb >> 16));
        return true;
    }

    public int IndexOf(string className)
    {
        for (var i = 0; i < Classes.Count; i++)
            if (string.Equals(Classes[i], className, StringComparison.OrdinalIgnoreCase)) return i;
        throw new KeyNotFoundException($"class '{className}' is not in label set {Name}");
    }

    /// <summary>NYU-Depth-v2 13-class taxonomy (Couprie et al. 2013), alphabetical, 0-based.</summary>
    public static LabelSet Nyu13 { get; } = new("nyu13",
        ["bed", "books", "ceiling", "chair", "floor", "furniture", "objects", "picture", "sofa", "table", "tv", "wall", "window"],
        [
            (0x66, 0x33, 0x99), (0x33, 0x99, 0xff), (0xe6, 0xe6, 0xb4), (0x33, 0x33, 0xcc), (0x55, 0x88, 0x55),
            (0x22, 0x55, 0x99), (0xcc, 0x66, 0xcc), (0x00, 0xcc, 0xff), (0x99, 0x66, 0x33), (0x00, 0x99, 0x99),
            (0x99, 0x00, 0x33), (0xb4, 0xb4, 0xb4), (0xff, 0xcc, 0x66),
        ]);

    /// <summary>NYU-Depth-v2 40-class taxonomy (Gupta et al. 2013), 0-based.</summary>
    public static LabelSet Nyu40 { get; } = new("nyu40",
        ["wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture", "counter",
         "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror", "floor mat", "clothes", "ceiling", "books",
         "refridgerator", "television", "paper", "towel", "shower curtain", "box", "whiteboard", "person", "night stand",
         "toilet", "sink", "lamp", "bathtub", "bag", "otherstructure", "otherfurniture", "otherprop"]);

    /// <summary>SUN RGB-D 37-class taxonomy, 0-based.</summary>
    public static LabelSet SunRgbd37 { get; } = new("sunrgbd37",
        ["wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture", "counter",
         "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror", "floor_mat", "clothes", "ceiling", "books",
         "fridge", "tv", "paper", "towel", "shower_curtain", "box", "whiteboard", "person", "night_stand", "toilet", "sink",
         "lamp", "bathtub", "bag"]);

    public static LabelSet ByName(string name) => name.ToLowerInvariant() switch
    {
        "nyu13" => Nyu13,
        "nyu40" => Nyu40,
        "sunrgbd37" => SunRgbd37,
        _ => throw new ArgumentException($"unknown label set '{name}' (known: nyu13, nyu40, sunrgbd37)"),
    };
}
