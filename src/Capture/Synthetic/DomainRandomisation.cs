namespace RealtimeMtl.Capture.Synthetic;

/// <summary>
/// Domain randomisation of a room, drawn per still: the classic layout keeps its geometry (so depth and NYU-13
/// labels stay exact), then surfaces, lights, clutter and pictures are redrawn over wide ranges, so that a network
/// trained on it meets real rooms as one more variation (Tobin et al., 2017).
/// </summary>
public static class DomainRandomisation
{
    /// <summary>Redraws the look of <paramref name="room"/> from <paramref name="rng"/>.</summary>
    internal static void Apply(SyntheticRoom room, Rng rng)
    {
        // Surfaces of the room.
        var floor = rng.Int(0, 3) switch
        {
            0 => new Material(Pattern.Wood, Wood(ref rng), rng.Range(0.07, 0.3)),
            1 => new Material(Pattern.Tiles, Muted(ref rng, 0.3, 0.35, 0.9), rng.Range(0.12, 0.7)),
            _ => new Material(Pattern.Carpet, Muted(ref rng, 0.6, 0.15, 0.75), rng.Range(0.2, 1.2)),
        };
        var wall = rng.Int(0, 6) switch
        {
            0 or 1 => new Material(Pattern.Plaster, Muted(ref rng, 0.25, 0.5, 0.95), rng.Range(0.3, 2.0)),
            2 => new Material(Pattern.Paint, Muted(ref rng, 0.6, 0.25, 0.95), rng.Range(0.05, 0.4)),
            3 => new Material(Pattern.Fabric, Muted(ref rng, 0.5, 0.3, 0.9), rng.Range(0.02, 0.1)),
            4 => new Material(Pattern.Tiles, Muted(ref rng, 0.3, 0.5, 0.95), rng.Range(0.1, 0.4)),
            _ => new Material(Pattern.Wood, Wood(ref rng), rng.Range(0.1, 0.3)),
        };
        var ceiling = new Material(rng.Chance(0.5) ? Pattern.Plaster : Pattern.Paint, Muted(ref rng, 0.1, 0.75, 0.98), rng.Range(0.3, 2.0));

        // 1-4 lights: ceiling fittings and floor or table lamps, tungsten to daylight, soft shadows.
        var n = rng.Int(1, 5);
        var lights = new List<Light>(n);
        for (var i = 0; i < n; i++)
        {
            var onCeiling = rng.Chance(0.6);
            var position = onCeiling
                ? new Vec3(rng.Range(0.3, room.Width - 0.3), room.Height - rng.Range(0.05, 0.4), rng.Range(0.5, room.Depth - 0.3))
                : new Vec3(rng.Chance(0.5) ? rng.Range(0.2, 0.6) : room.Width - rng.Range(0.2, 0.6), rng.Range(0.6, 1.8), rng.Range(room.Depth * 0.3,
                    room.Depth - 0.3));
            var colour = Light.ColourTemperature(rng.Range(2700, 6500));
            lights.Add(new Light(position, colour, rng.Range(2.0, 10.0) / Math.Sqrt(n), rng.Range(0.05, 0.45)));
        }
        var ambientColour = Light.ColourTemperature(rng.Range(3500, 9000));
        room.SetLook(floor, wall, ceiling, lights, rng.Range(0.03, 0.35), ambientColour, rng.Range(0, 0.25));

        // Furniture and objects: a fresh material per original material, so one object keeps one look.
        var boxes = room.MutableBoxes;
        var redrawn = new Dictionary<Material, Material>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < boxes.Count; i++)
        {
            var b = boxes[i];
            if (b.Material.Pattern == Pattern.Screen) continue;
            if (!redrawn.TryGetValue(b.Material, out var m)) redrawn[b.Material] = m = ForLabel(b.Label, ref rng);
            boxes[i] = b with { Material = m };
        }

        // More clutter, at a random density and scale: boxes, lamps and plants on the floor of the far part.
        var scale = rng.Range(0.6, 1.6);
        var clutter = rng.Int(0, 14);
        for (var i = 0; i < clutter; i++)
        {
            var s = rng.Range(0.1, 0.35) * scale;
            double cx = rng.Range(0.15, room.Width - 0.15 - s), cz = rng.Range(room.Depth * 0.35, room.Depth - 0.15 - s);
            var look = ForLabel(SyntheticRoom.Objects, ref rng);
            switch (rng.Int(0, 3))
            {
                case 0:
                    boxes.Add(new SceneBox(new Vec3(cx, 0, cz), new Vec3(cx + s, rng.Range(0.05, 0.5) * scale, cz + s * rng.Range(0.5, 1.5)),
                        SyntheticRoom.Objects, look));
                    break;
                case 1: // standing lamp: pole and shade
                    var top = rng.Range(1.1, 1.7);
                    boxes.Add(new SceneBox(new Vec3(cx + s / 2 - 0.015, 0, cz + s / 2 - 0.015), new Vec3(cx + s / 2 + 0.015, top, cz + s / 2 + 0.015),
                        SyntheticRoom.Objects, look));
                    boxes.Add(new SceneBox(new Vec3(cx, top, cz), new Vec3(cx + s, top + s * 0.8, cz + s), SyntheticRoom.Objects,
                        new Material(Pattern.Fabric, Muted(ref rng, 0.3, 0.6, 0.95), 0.02)));
                    break;
                default: // plant: pot and foliage
                    var pot = s * 0.6;
                    boxes.Add(new SceneBox(new Vec3(cx + (s - pot) / 2, 0, cz + (s - pot) / 2), new Vec3(cx + (s + pot) / 2, pot, cz + (s + pot) / 2),
                        SyntheticRoom.Objects, look));
                    boxes.Add(new SceneBox(new Vec3(cx, pot, cz), new Vec3(cx + s, pot + s * rng.Range(1, 2.5), cz + s), SyntheticRoom.Objects,
                        new Material(Pattern.Carpet, Hsv(rng.Range(0.22, 0.4), rng.Range(0.4, 0.9), rng.Range(0.15, 0.5)), rng.Range(0.02, 0.08))));
                    break;
            }
        }

        // Pictures become random procedural images; windows show day, dusk or night.
        var decals = room.MutableDecals;
        for (var i = 0; i < decals.Count; i++)
        {
            var d = decals[i];
            decals[i] = d.Label == SyntheticRoom.Picture
                ? d with
                {
                    Material = new Material(Pattern.Procedural, Hsv(rng.Next(), rng.Range(0.2, 1), rng.Range(0.2, 1)), rng.Range(1.5, 12),
                    rng.Int(0, 1 << 20), Hsv(rng.Next(), rng.Range(0.2, 1), rng.Range(0.1, 1)))
                }
                : d with
                {
                    Material = d.Material with
                    {
                        Color = rng.Int(0, 3) switch
                        {
                            0 => new Vec3(0.95, 0.85, 0.7),
                            1 => new Vec3(0.5, 0.55, 0.9),
                            _ => new Vec3(0.25, 0.12, 0.08)
                        } * rng.Range(0.6, 1.1),
                        Accent = Muted(ref rng, 0.3, 0.1, 0.95)
                    }
                };
        }
    }

    /// <summary>A look for an object of class <paramref name="label"/>: plausible patterns, any colour.</summary>
    private static Material ForLabel(byte label, ref Rng rng) => label switch
    {
        SyntheticRoom.Bed or SyntheticRoom.Sofa => rng.Chance(0.8)
            ? new Material(Pattern.Fabric, Muted(ref rng, 0.7, 0.1, 0.9), rng.Range(0.01, 0.05))
            : new Material(Pattern.Carpet, Muted(ref rng, 0.7, 0.1, 0.9), rng.Range(0.05, 0.4)),
        SyntheticRoom.Books => new Material(Pattern.Plastic, Hsv(rng.Next(), rng.Range(0.2, 0.9), rng.Range(0.15, 0.95)), 0.05),
        SyntheticRoom.Table or SyntheticRoom.Chair or SyntheticRoom.Furniture => rng.Int(0, 4) switch
        {
            0 or 1 => new Material(Pattern.Wood, Wood(ref rng), rng.Range(0.04, 0.15)),
            2 => new Material(Pattern.Paint, Muted(ref rng, 0.5, 0.1, 0.95), rng.Range(0.02, 0.1)),
            _ => new Material(Pattern.Plastic, Muted(ref rng, 0.8, 0.05, 0.95), 0.05),
        },
        _ => new Material(rng.Int(0, 3) switch { 0 => Pattern.Plastic, 1 => Pattern.Fabric, _ => Pattern.Plaster }, Hsv(rng.Next(), rng.Range(0, 1),
            rng.Range(0.1, 0.95)), rng.Range(0.02, 0.2)),
    };

    /// <summary>Wood from pale birch to dark walnut, sometimes grey-washed.</summary>
    private static Vec3 Wood(ref Rng rng) =>
        rng.Chance(0.15) ? Hsv(rng.Range(0.05, 0.12), rng.Range(0.05, 0.2), rng.Range(0.35, 0.8)) : Hsv(rng.Range(0.04, 0.11), rng.Range(0.35, 0.75),
            rng.Range(0.2, 0.85));

    /// <summary>A colour of any hue with saturation at most <paramref name="maxSat"/> and value in [lo, hi].</summary>
    private static Vec3 Muted(ref Rng rng, double maxSat, double lo, double hi) => Hsv(rng.Next(), rng.Range(0, maxSat), rng.Range(lo, hi));

    /// <summary>HSV (all 0..1) to linear BGR.</summary>
    public static Vec3 Hsv(double h, double s, double v)
    {
        h = (h - Math.Floor(h)) * 6;
        var i = (int)h;
        var f = h - i;
        double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
        var (r, g, b) = i switch { 0 => (v, t, p), 1 => (q, v, p), 2 => (p, v, t), 3 => (p, q, v), 4 => (t, p, v), _ => (v, p, q) };
        return new Vec3(b, g, r);
    }

    /// <summary>
    /// A random camera for a still: horizontal field of view 50-75°, square pixels, principal point near the centre,
    /// height 0.8-2.0 m, pitch -30° to +8°, roll up to ±7°.
    /// </summary>
    public static (CameraPose Pose, CameraIntrinsics K) Camera(SyntheticRoom room, int width, int height, ref Rng rng)
    {
        var fov = rng.Range(50, 75) * Math.PI / 180;
        var f = width / 2.0 / Math.Tan(fov / 2);
        var k = new CameraIntrinsics(f, f, (width - 1) / 2.0 + rng.Range(-0.02, 0.02) * width, (height - 1) / 2.0 + rng.Range(-0.02,
            0.02) * height, width, height);
        var (x0, z0, x1, z1) = room.FreeArea;
        var pose = new CameraPose(
            new Vec3(rng.Range(x0, x1), Math.Min(rng.Range(0.8, 2.0), room.Height - 0.3), rng.Range(z0, z1)),
            rng.Range(-0.8, 0.8),
            rng.Range(-0.52, 0.14),
            rng.Range(-0.12, 0.12));
        return (pose, k);
    }
}
