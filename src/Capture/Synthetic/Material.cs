namespace RealtimeMtl.Capture.Synthetic;

public enum Pattern { Paint, Wood, Tiles, Fabric, Screen, Artwork, Sky, Plastic }

/// <summary>Surface appearance: base colour (linear BGR 0..1), a procedural pattern and its scale.</summary>
public sealed record Material(Pattern Pattern, Vec3 Color, double Scale = 1.0, int Variant = 0, Vec3 Accent = default);
