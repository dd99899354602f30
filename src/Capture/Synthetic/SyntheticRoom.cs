namespace RealtimeMtl.Capture.Synthetic;

/// <summary>
/// A procedurally furnished room, deterministic by seed. The room spans [0,Width] x [0,Height] x [0,Depth]
/// (x right, y up, z away from the entrance wall). Furniture stands against the side and far walls, leaving the
/// near half free for the camera.
/// </summary>
public sealed class SyntheticRoom
{
    // NYU-13 indices (LabelSet.Nyu13 order).
    public const byte Bed = 0, Books = 1, Ceiling = 2, Chair = 3, Floor = 4, Furniture = 5, Objects = 6, Picture = 7,
        Sofa = 8, Table = 9, Tv = 10, Wall = 11, Window = 12;

    public double Width { get; }
    public double Height { get; }
    public double Depth { get; }
    public Material FloorMaterial { get; private set; }
    public Material WallMaterial { get; private set; }
    public Material CeilingMaterial { get; private set; }
    public IReadOnlyList<SceneBox> Boxes => _boxes;
    public IReadOnlyList<WallDecal> Decals => _decals;
    public Vec3 Lamp { get; }
    public double LampPower { get; }
    public double Ambient { get; private set; }

    /// <summary>The lights: the classic world's one white lamp, or 1-4 lights of the randomised world.</summary>
    public IReadOnlyList<Light> Lights { get; private set; }

    /// <summary>Colour of the ambient term (white in the classic world).</summary>
    public Vec3 AmbientColor { get; private set; } = new(1, 1, 1);

    /// <summary>Strength of the light from above (windows, bounce), 0.15 in the classic world.</summary>
    public double SkyLevel { get; private set; } = 0.15;

    /// <summary>Whether the renderer casts shadow rays from every lit point to every light (randomised world).</summary>
    public bool Shadows { get; private set; }

    /// <summary>Whether this room was drawn by the domain-randomised world.</summary>
    public bool Randomised { get; }

    /// <summary>The region the camera may stand in (x0, z0, x1, z1), clear of furniture.</summary>
    public (double X0, double Z0, double X1, double Z1) FreeArea { get; }

    private readonly List<SceneBox> _boxes = [];
    private readonly List<WallDecal> _decals = [];

    /// <param name="randomised">
    /// Domain randomisation (for sim-to-real training): the same layout, then random surface textures and colours,
    /// 1-4 coloured lights with soft shadows, more clutter at random scale, and procedural pictures.
    /// </param>
    public SyntheticRoom(int seed, long variant = 0, bool randomised = false)
    {
        var rng = Rng.For(seed, variant * 7919 + 17);
        Width = rng.Range(3.6, 6.0);
        Depth = rng.Range(4.5, 7.0);
        Height = rng.Range(2.5, 3.1);
        FloorMaterial = rng.Chance(0.6)
            ? new Material(Pattern.Wood, RandomWood(ref rng), rng.Range(0.12, 0.22))
            : new Material(Pattern.Tiles, Tint(ref rng, new Vec3(0.75, 0.75, 0.72), 0.15), rng.Range(0.3, 0.6));
        WallMaterial = new Material(rng.Chance(0.25) ? Pattern.Fabric : Pattern.Paint, Pastel(ref rng), rng.Range(0.05, 0.3));
        CeilingMaterial = new Material(Pattern.Paint, Tint(ref rng, new Vec3(0.92, 0.93, 0.93), 0.05));
        Lamp = new Vec3(Width * rng.Range(0.35, 0.65), Height - 0.15, Depth * rng.Range(0.4, 0.7));
        LampPower = rng.Range(5.0, 9.0);
        Ambient = rng.Range(0.25, 0.4);

        var sideMargin = 0.0;
        // Far wall: bed or sofa or shelves; side walls: shelves, cabinets, sofa, TV stand.
        var farZ = Depth;
        var x = 0.2;
        while (x < Width - 0.8)
        {
            var choice = rng.Int(0, 5);
            var w = 0.0;
            switch (choice)
            {
                case 0 when x + 1.6 < Width: w = AddBed(ref rng, x, farZ, facing: -1); break;
                case 1 when x + 2.0 < Width: w = AddSofa(ref rng, x, farZ); break;
                case 2: w = AddShelf(ref rng, x, farZ); break;
                case 3: w = AddCabinet(ref rng, x, farZ, withTv: rng.Chance(0.6)); break;
                default: w = rng.Range(0.3, 0.9); break;
            }
            x += w + rng.Range(0.1, 0.5);
        }
        // Side walls (x = 0 and x = Width), from the middle of the room to the far end.
        foreach (var left in new[] { true, false })
        {
            var z = Depth * rng.Range(0.45, 0.55);
            while (z < Depth - 1.3)
            {
                var depthUsed = rng.Int(0, 4) switch
                {
                    0 => AddSideShelf(ref rng, left, z),
                    1 => AddSideCabinet(ref rng, left, z),
                    2 => AddSideTable(ref rng, left, z),
                    _ => rng.Range(0.3, 0.8),
                };
                z += depthUsed + rng.Range(0.1, 0.4);
            }
            sideMargin = Math.Max(sideMargin, 0.7);
        }
        // A table with chairs in the middle of the far half.
        if (rng.Chance(0.75)) AddDiningSet(ref rng);
        // Clutter on the floor.
        var clutter = rng.Int(1, 5);
        for (var i = 0; i < clutter; i++)
        {
            double cx = rng.Range(0.3, Width - 0.3), cz = rng.Range(Depth * 0.45, Depth - 0.3);
            double s = rng.Range(0.15, 0.4);
            AddBox(new Vec3(cx, 0, cz), new Vec3(cx + s, rng.Range(0.1, 0.45), cz + s * rng.Range(0.6, 1.4)), Objects, RandomObjectMaterial(ref rng));
        }
        // Windows and pictures on the walls (faces 0: x=0, 1: x=W, 5: z=D).
        var windows = rng.Int(1, 3);
        for (var i = 0; i < windows; i++)
        {
            var face = rng.Int(0, 3) switch { 0 => 0, 1 => 1, _ => 5 };
            var span = face == 5 ? Width : Depth;
            var ww = rng.Range(0.8, 1.6);
            var a0 = rng.Range(0.3, Math.Max(0.35, span - ww - 0.3));
            var b0 = rng.Range(0.9, 1.2);
            _decals.Add(new WallDecal(face, a0, b0, a0 + ww, Math.Min(Height - 0.2, b0 + rng.Range(1.0, 1.5)), Window,
                new Material(Pattern.Sky, Tint(ref rng, new Vec3(0.98, 0.85, 0.7), 0.1), 1.0, rng.Int(1, 4), new Vec3(0.9, 0.9, 0.9))));
        }
        var pictures = rng.Int(1, 4);
        for (var i = 0; i < pictures; i++)
        {
            var face = rng.Int(0, 3) switch { 0 => 0, 1 => 1, _ => 5 };
            var span = face == 5 ? Width : Depth;
            var pw = rng.Range(0.35, 0.9);
            var a0 = rng.Range(0.3, Math.Max(0.35, span - pw - 0.3));
            var b0 = rng.Range(1.3, 1.7);
            _decals.Add(new WallDecal(face, a0, b0, a0 + pw, b0 + pw * rng.Range(0.6, 1.2), Picture,
                new Material(Pattern.Artwork, RandomSaturated(ref rng), rng.Range(2, 8), rng.Int(0, 1000), RandomSaturated(ref rng))));
        }
        FreeArea = (sideMargin, 0.35, Width - sideMargin, Depth * 0.42);
        Lights = [new Light(Lamp, new Vec3(1, 1, 1), LampPower)];
        Randomised = randomised;
        if (randomised) DomainRandomisation.Apply(this, Rng.For(seed, variant * 7919 + 4243));
    }

    internal void SetLook(Material floor, Material wall, Material ceiling, IReadOnlyList<Light> lights, double ambient, Vec3 ambientColor,
        double skyLevel)
    {
        FloorMaterial = floor; WallMaterial = wall; CeilingMaterial = ceiling;
        Lights = lights; Ambient = ambient; AmbientColor = ambientColor; SkyLevel = skyLevel;
        Shadows = true;
    }

    internal List<SceneBox> MutableBoxes => _boxes;
    internal List<WallDecal> MutableDecals => _decals;

    private void AddBox(Vec3 min, Vec3 max, byte label, Material m) => _boxes.Add(new SceneBox(min, max, label, m));

    private double AddBed(ref Rng rng, double x, double farZ, int facing)
    {
        var w = rng.Range(1.0, 1.6);
        var len = rng.Range(1.9, 2.1);
        var frame = new Material(Pattern.Wood, RandomWood(ref rng), 0.1);
        var sheet = new Material(Pattern.Fabric, Pastel(ref rng), 0.02);
        AddBox(new Vec3(x, 0, farZ - len), new Vec3(x + w, 0.3, farZ), Bed, frame);
        AddBox(new Vec3(x + 0.03, 0.3, farZ - len + 0.03), new Vec3(x + w - 0.03, 0.52, farZ - 0.05), Bed, sheet);
        AddBox(new Vec3(x, 0, farZ - 0.06), new Vec3(x + w, rng.Range(0.9, 1.2), farZ), Bed, frame);
        if (rng.Chance(0.7)) AddBox(new Vec3(x + 0.15, 0.52, farZ - 0.5), new Vec3(x + w - 0.15, 0.64, farZ - 0.12), Bed, new Material(Pattern.Fabric,
            Pastel(ref rng), 0.02));
        return w;
    }

    private double AddSofa(ref Rng rng, double x, double farZ)
    {
        var w = rng.Range(1.5, 2.0);
        var d = rng.Range(0.8, 0.95);
        var fabric = new Material(Pattern.Fabric, RandomSaturated(ref rng) * 0.6, 0.015);
        AddBox(new Vec3(x, 0.05, farZ - d), new Vec3(x + w, 0.45, farZ), Sofa, fabric);
        AddBox(new Vec3(x, 0.05, farZ - 0.25), new Vec3(x + w, 0.85, farZ), Sofa, fabric);
        AddBox(new Vec3(x, 0.05, farZ - d), new Vec3(x + 0.2, 0.62, farZ), Sofa, fabric);
        AddBox(new Vec3(x + w - 0.2, 0.05, farZ - d), new Vec3(x + w, 0.62, farZ), Sofa, fabric);
        return w;
    }

    private double AddShelf(ref Rng rng, double x, double farZ)
    {
        var w = rng.Range(0.6, 1.2);
        var h = rng.Range(1.2, 2.0);
        var d = 0.32;
        AddShelfUnit(ref rng, new Vec3(x, 0, farZ - d), new Vec3(x + w, h, farZ), alongX: true);
        return w;
    }

    private double AddSideShelf(ref Rng rng, bool left, double z)
    {
        var len = rng.Range(0.6, 1.2);
        var h = rng.Range(1.2, 2.0);
        var d = 0.32;
        var x0 = left ? 0 : Width - d;
        AddShelfUnit(ref rng, new Vec3(x0, 0, z), new Vec3(x0 + d, h, z + len), alongX: false);
        return len;
    }

    private void AddShelfUnit(ref Rng rng, Vec3 min, Vec3 max, bool alongX)
    {
        var wood = new Material(Pattern.Wood, RandomWood(ref rng), 0.08);
        const double t = 0.03;
        var rows = Math.Max(2, (int)((max.Y - min.Y) / 0.38));
        // Sides, back and boards (furniture), then books on each board.
        if (alongX)
        {
            AddBox(min, new Vec3(min.X + t, max.Y, max.Z), Furniture, wood);
            AddBox(new Vec3(max.X - t, min.Y, min.Z), max, Furniture, wood);
            AddBox(new Vec3(min.X, min.Y, max.Z - t), max, Furniture, wood);
        }
        else
        {
            AddBox(min, new Vec3(max.X, max.Y, min.Z + t), Furniture, wood);
            AddBox(new Vec3(min.X, min.Y, max.Z - t), max, Furniture, wood);
            AddBox(new Vec3(min.X < 0.01 ? min.X : max.X - t, min.Y, min.Z), new Vec3(min.X < 0.01 ? min.X + t : max.X, max.Y, max.Z), Furniture,
                wood);
        }
        var rowH = (max.Y - min.Y) / rows;
        for (var r = 0; r <= rows; r++)
        {
            var y = min.Y + r * rowH;
            AddBox(new Vec3(min.X, Math.Max(0, y - t), min.Z), new Vec3(max.X, y, max.Z), Furniture, wood);
            if (r == rows) break;
            // Books stand on the board, spine facing the room.
            var along0 = alongX ? min.X + t : min.Z + t;
            var along1 = alongX ? max.X - t : max.Z - t;
            var p = along0 + rng.Range(0, 0.1);
            while (p < along1 - 0.03)
            {
                if (rng.Chance(0.12)) { p += rng.Range(0.05, 0.2); continue; }
                var bw = rng.Range(0.02, 0.06);
                if (p + bw > along1) break;
                var bh = Math.Min(rowH - t - 0.02, rng.Range(0.15, 0.3));
                var bd = rng.Range(0.14, 0.24);
                var book = new Material(Pattern.Plastic, RandomSaturated(ref rng) * rng.Range(0.5, 1.0), 0.05);
                if (alongX) AddBox(new Vec3(p, y, max.Z - t - bd), new Vec3(p + bw, y + bh, max.Z - t), Books, book);
                else if (min.X < 0.01) AddBox(new Vec3(min.X + t, y, p), new Vec3(min.X + t + bd, y + bh, p + bw), Books, book);
                else AddBox(new Vec3(max.X - t - bd, y, p), new Vec3(max.X - t, y + bh, p + bw), Books, book);
                p += bw + rng.Range(0.0, 0.01);
            }
        }
    }

    private double AddCabinet(ref Rng rng, double x, double farZ, bool withTv)
    {
        var w = rng.Range(0.8, 1.6);
        var h = rng.Range(0.45, 0.9);
        var d = rng.Range(0.4, 0.55);
        AddBox(new Vec3(x, 0, farZ - d), new Vec3(x + w, h, farZ), Furniture, new Material(Pattern.Wood, RandomWood(ref rng), 0.1));
        if (withTv && w > 0.9)
        {
            var tw = Math.Min(w - 0.1, rng.Range(0.8, 1.3));
            var th = tw * 0.58;
            var tx = x + (w - tw) / 2;
            AddBox(new Vec3(tx, h, farZ - 0.2), new Vec3(tx + tw, h + th, farZ - 0.12), Tv, new Material(Pattern.Screen, new Vec3(0.08, 0.07, 0.07),
                1, rng.Int(0, 1000)));
        }
        else if (rng.Chance(0.7))
        {
            var s = rng.Range(0.1, 0.3);
            var ox = x + rng.Range(0.05, w - s - 0.05);
            AddBox(new Vec3(ox, h, farZ - d + 0.1), new Vec3(ox + s, h + rng.Range(0.1, 0.35), farZ - d + 0.1 + s), Objects,
                RandomObjectMaterial(ref rng));
        }
        return w;
    }

    private double AddSideCabinet(ref Rng rng, bool left, double z)
    {
        var len = rng.Range(0.7, 1.4);
        var h = rng.Range(0.5, 1.1);
        var d = rng.Range(0.4, 0.55);
        var x0 = left ? 0 : Width - d;
        AddBox(new Vec3(x0, 0, z), new Vec3(x0 + d, h, z + len), Furniture, new Material(Pattern.Wood, RandomWood(ref rng), 0.1));
        if (rng.Chance(0.5))
        {
            var s = rng.Range(0.1, 0.25);
            AddBox(new Vec3(x0 + 0.1, h, z + 0.2), new Vec3(x0 + 0.1 + s, h + rng.Range(0.1, 0.3), z + 0.2 + s), Objects,
                RandomObjectMaterial(ref rng));
        }
        return len;
    }

    private double AddSideTable(ref Rng rng, bool left, double z)
    {
        var len = rng.Range(0.8, 1.3);
        var d = rng.Range(0.5, 0.7);
        var x0 = left ? 0.02 : Width - d - 0.02;
        AddTable(ref rng, new Vec3(x0, 0, z), new Vec3(x0 + d, rng.Range(0.7, 0.78), z + len));
        return len;
    }

    private void AddDiningSet(ref Rng rng)
    {
        var tw = rng.Range(0.9, 1.5);
        var td = rng.Range(0.7, 1.0);
        var cx = rng.Range(Width * 0.35, Width * 0.65);
        var cz = rng.Range(Depth * 0.6, Depth * 0.72);
        var min = new Vec3(cx - tw / 2, 0, cz - td / 2);
        var max = new Vec3(cx + tw / 2, rng.Range(0.7, 0.78), cz + td / 2);
        AddTable(ref rng, min, max);
        var chairMat = new Material(rng.Chance(0.5) ? Pattern.Wood : Pattern.Plastic, rng.Chance(0.5) ? RandomWood(ref rng) : RandomSaturated(ref rng)
            * 0.7, 0.08);
        var chairs = rng.Int(1, 5);
        for (var i = 0; i < chairs; i++)
        {
            var side = i % 4;
            var along = rng.Range(-0.2, 0.2);
            Vec3 c = side switch
            {
                0 => new Vec3(cx + along, 0, min.Z - 0.3),
                1 => new Vec3(cx + along, 0, max.Z + 0.3),
                2 => new Vec3(min.X - 0.3, 0, cz + along),
                _ => new Vec3(max.X + 0.3, 0, cz + along),
            };
            AddChair(c, side, chairMat);
        }
    }

    private void AddTable(ref Rng rng, Vec3 min, Vec3 max)
    {
        var m = new Material(Pattern.Wood, RandomWood(ref rng), 0.06);
        const double leg = 0.05, top = 0.04;
        AddBox(new Vec3(min.X, max.Y - top, min.Z), max, Table, m);
        foreach (var (lx, lz) in new[] { (min.X, min.Z), (max.X - leg, min.Z), (min.X, max.Z - leg), (max.X - leg, max.Z - leg) })
            AddBox(new Vec3(lx, 0, lz), new Vec3(lx + leg, max.Y - top, lz + leg), Table, m);
        var items = rng.Int(0, 3);
        for (var i = 0; i < items; i++)
        {
            var s = rng.Range(0.08, 0.25);
            var ox = rng.Range(min.X + 0.05, max.X - s - 0.05);
            var oz = rng.Range(min.Z + 0.05, max.Z - s - 0.05);
            AddBox(new Vec3(ox, max.Y, oz), new Vec3(ox + s, max.Y + rng.Range(0.05, 0.3), oz + s * rng.Range(0.5, 1.2)), Objects,
                RandomObjectMaterial(ref rng));
        }
    }

    /// <summary>Seat, four legs and a back on the side away from the table.</summary>
    private void AddChair(Vec3 centre, int side, Material m)
    {
        const double s = 0.22, seatH = 0.45, leg = 0.04;
        var min = new Vec3(centre.X - s, 0, centre.Z - s);
        var max = new Vec3(centre.X + s, seatH, centre.Z + s);
        AddBox(new Vec3(min.X, seatH - 0.05, min.Z), max, Chair, m);
        foreach (var (lx, lz) in new[] { (min.X, min.Z), (max.X - leg, min.Z), (min.X, max.Z - leg), (max.X - leg, max.Z - leg) })
            AddBox(new Vec3(lx, 0, lz), new Vec3(lx + leg, seatH - 0.05, lz + leg), Chair, m);
        const double backT = 0.04, backH = 0.9;
        switch (side)
        {
            case 0: AddBox(new Vec3(min.X, seatH, min.Z), new Vec3(max.X, backH, min.Z + backT), Chair, m); break;
            case 1: AddBox(new Vec3(min.X, seatH, max.Z - backT), new Vec3(max.X, backH, max.Z), Chair, m); break;
            case 2: AddBox(new Vec3(min.X, seatH, min.Z), new Vec3(min.X + backT, backH, max.Z), Chair, m); break;
            default: AddBox(new Vec3(max.X - backT, seatH, min.Z), new Vec3(max.X, backH, max.Z), Chair, m); break;
        }
    }

    private static Vec3 RandomWood(ref Rng rng)
    {
        var v = rng.Range(0.35, 0.8);
        return new Vec3(0.25 * v, 0.45 * v, 0.7 * v); // BGR: brown
    }

    private static Vec3 Pastel(ref Rng rng) => new(rng.Range(0.55, 0.9), rng.Range(0.55, 0.9), rng.Range(0.55, 0.9));
    private static Vec3 RandomSaturated(ref Rng rng) => new(rng.Range(0.05, 0.95), rng.Range(0.05, 0.95), rng.Range(0.05, 0.95));
    private static Vec3 Tint(ref Rng rng, Vec3 c, double amount) =>
        new(Math.Clamp(c.X + rng.Range(-amount, amount), 0, 1), Math.Clamp(c.Y + rng.Range(-amount, amount), 0, 1), Math.Clamp(c.Z
            + rng.Range(-amount, amount), 0, 1));
    private static Material RandomObjectMaterial(ref Rng rng) =>
        new(rng.Chance(0.5) ? Pattern.Plastic : Pattern.Fabric, RandomSaturated(ref rng), 0.03);
}
