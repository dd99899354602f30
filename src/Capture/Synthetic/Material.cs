namespace RealtimeMtl.Capture.Synthetic;

/// <summary>
/// Surface patterns. Paint to Plastic make the classic world; Plaster, Carpet and Procedural (a random procedural
/// image, for pictures) are drawn only by the randomised world.
/// </summary>
public enum Pattern { Paint, Wood, Tiles, Fabric, Screen, Artwork, Sky, Plastic, Plaster, Carpet, Procedural }

/// <summary>Surface appearance: base colour (linear BGR 0..1), a procedural pattern and its scale.</summary>
public sealed record Material(Pattern Pattern, Vec3 Color, double Scale = 1.0, int Variant = 0, Vec3 Accent = default);
