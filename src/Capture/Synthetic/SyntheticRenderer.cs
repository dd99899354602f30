namespace RealtimeMtl.Capture.Synthetic;

/// <summary>
/// Ray-casts a <see cref="SyntheticRoom"/> through a pinhole camera. Every pixel gets a shaded colour, its exact
/// z-depth in metres (distance along the optical axis, as RGB-D sensors report) and its NYU-13 label.
/// Boxes are tested only inside their projected screen rectangle, which keeps a 320x240 frame to a few ms.
/// </summary>
public static unsafe class SyntheticRenderer
{
    // Per-thread scratch, reused frame to frame (no per-frame allocation on the demo's hot path).
    [ThreadStatic] private static int[]? _surface;
    [ThreadStatic] private static byte[]? _boxFace;

    /// <summary>Renders into <paramref name="image"/> (CV_8UC3 BGR), <paramref name="depth"/> (CV_32FC1 m), <paramref name="labels"/>
    /// (CV_8UC1).</summary>
    public static void Render(SyntheticRoom room, CameraPose pose, CameraIntrinsics k, Mat image, Mat depth, Mat labels)
    {
        int w = k.Width, h = k.Height;
        image.Create(h, w, MatType.CV_8UC3);
        depth.Create(h, w, MatType.CV_32FC1);
        labels.Create(h, w, MatType.CV_8UC1);
        var f = pose.Forward; var r = pose.Right; var u = pose.Up; var o = pose.Position;
        var depthPtr = (float*)depth.Data;
        var labelPtr = (byte*)labels.Data;
        var imagePtr = (byte*)image.Data;
        // Hit record per pixel: which surface (-1..-6 room face, >= 0 box index) and the face axis/sign of a box hit.
        if (_surface is null || _surface.Length != w * h) { _surface = new int[w * h]; _boxFace = new byte[w * h]; }
        var surface = _surface;
        var boxFace = _boxFace!;
        double invFx = 1.0 / k.Fx, invFy = 1.0 / k.Fy;

        // 1. Room interior: the camera is inside, so the exit face along the ray is the nearest wall.
        for (var py = 0; py < h; py++)
        {
            var cyv = -(py - k.Cy) * invFy;
            for (var px = 0; px < w; px++)
            {
                var cxv = (px - k.Cx) * invFx;
                var d = new Vec3(r.X * cxv + u.X * cyv + f.X, r.Y * cxv + u.Y * cyv + f.Y, r.Z * cxv + u.Z * cyv + f.Z);
                double t = double.MaxValue; var face = 0;
                if (d.X > 1e-12) { var tt = (room.Width - o.X) / d.X; if (tt < t) { t = tt; face = 1; } }
                else if (d.X < -1e-12) { var tt = -o.X / d.X; if (tt < t) { t = tt; face = 0; } }
                if (d.Y > 1e-12) { var tt = (room.Height - o.Y) / d.Y; if (tt < t) { t = tt; face = 3; } }
                else if (d.Y < -1e-12) { var tt = -o.Y / d.Y; if (tt < t) { t = tt; face = 2; } }
                if (d.Z > 1e-12) { var tt = (room.Depth - o.Z) / d.Z; if (tt < t) { t = tt; face = 5; } }
                else if (d.Z < -1e-12) { var tt = -o.Z / d.Z; if (tt < t) { t = tt; face = 4; } }
                var i = py * w + px;
                depthPtr[i] = (float)t;
                surface[i] = -1 - face;
            }
        }

        // 2. Boxes, each within its screen rectangle, z-buffered against what is already there.
        var boxes = room.Boxes;
        for (var b = 0; b < boxes.Count; b++)
        {
            var box = boxes[b];
            if (!ScreenRect(box, pose, k, out var x0, out var y0, out var x1, out var y1)) continue;
            for (var py = y0; py <= y1; py++)
            {
                var cyv = -(py - k.Cy) * invFy;
                for (var px = x0; px <= x1; px++)
                {
                    var cxv = (px - k.Cx) * invFx;
                    var d = new Vec3(r.X * cxv + u.X * cyv + f.X, r.Y * cxv + u.Y * cyv + f.Y, r.Z * cxv + u.Z * cyv + f.Z);
                    var i = py * w + px;
                    if (IntersectBox(o, d, box, depthPtr[i], out var t, out var faceCode))
                    {
                        depthPtr[i] = (float)t;
                        surface[i] = b;
                        boxFace[i] = faceCode;
                    }
                }
            }
        }

        // 3. Shade and label.
        for (var py = 0; py < h; py++)
        {
            var cyv = -(py - k.Cy) * invFy;
            for (var px = 0; px < w; px++)
            {
                var i = py * w + px;
                var cxv = (px - k.Cx) * invFx;
                var t = depthPtr[i];
                var p = new Vec3(o.X + t * (r.X * cxv + u.X * cyv + f.X), o.Y + t * (r.Y * cxv + u.Y * cyv + f.Y), o.Z + t * (r.Z * cxv + u.Z * cyv
                    + f.Z));
                byte label;
                Vec3 albedo, n;
                var s = surface[i];
                if (s < 0)
                {
                    var face = -1 - s;
                    n = face switch
                    {
                        0 => new Vec3(1, 0, 0),
                        1 => new Vec3(-1, 0, 0),
                        2 => new Vec3(0, 1, 0),
                        3 => new Vec3(0, -1, 0),
                        4 => new Vec3(0, 0, 1),
                        _ => new Vec3(0, 0, -1)
                    };
                    var (a, bb) = FaceCoords(face >> 1, p);
                    label = face switch { 2 => SyntheticRoom.Floor, 3 => SyntheticRoom.Ceiling, _ => SyntheticRoom.Wall };
                    var material = face switch { 2 => room.FloorMaterial, 3 => room.CeilingMaterial, _ => room.WallMaterial };
                    albedo = Texture(material, a, bb, face);
                    var decals = room.Decals;
                    for (var di = 0; di < decals.Count; di++)
                    {
                        var decal = decals[di];
                        if (decal.Face != face || a < decal.A0 || a > decal.A1 || bb < decal.B0 || bb > decal.B1) continue;
                        label = decal.Label;
                        albedo = DecalTexture(decal, a, bb);
                        break;
                    }
                    // Ambient occlusion toward the room's edges and corners.
                    var edge = EdgeDistance(room, face >> 1, p);
                    albedo *= 1 - 0.35 * Math.Exp(-edge * 6);
                }
                else
                {
                    var box = boxes[s];
                    var axis = boxFace[i] >> 1;
                    var sign = (boxFace[i] & 1) == 0 ? -1.0 : 1.0;
                    n = axis switch { 0 => new Vec3(sign, 0, 0), 1 => new Vec3(0, sign, 0), _ => new Vec3(0, 0, sign) };
                    var (a, bb) = FaceCoords(axis, p);
                    label = box.Label;
                    albedo = Texture(box.Material, a, bb, axis * 2 + (sign > 0 ? 1 : 0));
                }
                var shade = Shade(room, p, n, boxes, i);
                var c = albedo.Mul(shade);
                if (label == SyntheticRoom.Window || label == SyntheticRoom.Tv) c = albedo * (label == SyntheticRoom.Window ? 1.05 : 0.8 + 0.4
                    * (shade.X + shade.Y + shade.Z) / 3);
                imagePtr[i * 3] = ToByte(c.X);
                imagePtr[i * 3 + 1] = ToByte(c.Y);
                imagePtr[i * 3 + 2] = ToByte(c.Z);
                labelPtr[i] = label;
            }
        }
    }

    private static byte ToByte(double v)
    {
        // Gentle gamma so shaded surfaces keep texture detail.
        var g = Math.Sqrt(Math.Clamp(v, 0, 1));
        return (byte)(g * 255 + 0.5);
    }

    /// <summary>
    /// Light arriving at <paramref name="p"/> (normal <paramref name="n"/>): ambient, light from above and each
    /// light's diffuse term. In a room with <see cref="SyntheticRoom.Shadows"/>, a shadow ray to a point jittered per
    /// pixel over the light's area decides whether a light is seen, which gives soft shadow edges.
    /// </summary>
    private static Vec3 Shade(SyntheticRoom room, Vec3 p, Vec3 n, IReadOnlyList<SceneBox> boxes, int pixel)
    {
        var sky = room.SkyLevel * (0.5 + 0.5 * n.Y);
        var total = room.AmbientColor * room.Ambient + new Vec3(sky, sky, sky);
        var lights = room.Lights;
        for (var li = 0; li < lights.Count; li++)
        {
            var light = lights[li];
            var l = light.Position - p;
            var dist2 = l.Dot(l);
            var ndotl = n.Dot(l) / Math.Sqrt(dist2);
            if (ndotl <= 0) continue;
            var diffuse = ndotl * light.Power / (1 + dist2);
            if (room.Shadows)
            {
                var target = light.Position;
                if (light.Radius > 0)
                    target += new Vec3(Rng.Hash(pixel, li, 1) - 0.5, Rng.Hash(pixel, li, 2) - 0.5, Rng.Hash(pixel, li, 3) - 0.5) * (2 * light.Radius);
                if (Occluded(p + n * 0.002, target, boxes)) continue;
            }
            total += light.Color * (diffuse * 0.5);
        }
        return total;
    }

    /// <summary>Whether any box blocks the segment from <paramref name="from"/> to <paramref name="to"/>.</summary>
    private static bool Occluded(Vec3 from, Vec3 to, IReadOnlyList<SceneBox> boxes)
    {
        var d = to - from;
        double lx = Math.Min(from.X, to.X), hx = Math.Max(from.X, to.X), ly = Math.Min(from.Y, to.Y), hy = Math.Max(from.Y, to.Y),
            lz = Math.Min(from.Z, to.Z), hz = Math.Max(from.Z, to.Z);
        for (var b = 0; b < boxes.Count; b++)
        {
            var box = boxes[b];
            // The segment's bounding box must overlap the box before the slab test is worth doing.
            if (box.Max.X < lx || box.Min.X > hx || box.Max.Y < ly || box.Min.Y > hy || box.Max.Z < lz || box.Min.Z > hz) continue;
            if (IntersectBox(from, d, box, 1.0, out _, out _)) return true;
        }
        return false;
    }

    private static double EdgeDistance(SyntheticRoom room, int axis, Vec3 p)
    {
        double d1, d2;
        switch (axis)
        {
            case 0: d1 = Math.Min(p.Y, room.Height - p.Y); d2 = Math.Min(p.Z, room.Depth - p.Z); break;
            case 1: d1 = Math.Min(p.X, room.Width - p.X); d2 = Math.Min(p.Z, room.Depth - p.Z); break;
            default: d1 = Math.Min(p.X, room.Width - p.X); d2 = Math.Min(p.Y, room.Height - p.Y); break;
        }
        return Math.Min(d1, d2);
    }

    /// <summary>In-plane coordinates of a point on a face perpendicular to <paramref name="axis"/>.</summary>
    private static (double A, double B) FaceCoords(int axis, Vec3 p) => axis switch
    {
        0 => (p.Z, p.Y),
        1 => (p.X, p.Z),
        _ => (p.X, p.Y),
    };

    private static Vec3 Texture(Material m, double a, double b, int face)
    {
        var c = m.Color;
        switch (m.Pattern)
        {
            case Pattern.Wood:
            {
                // Planks along a, grain along b.
                var plank = (int)Math.Floor(b / m.Scale);
                var jitter = Rng.Hash(plank, face, 11) * 0.25 - 0.125;
                var grain = 0.9 + 0.1 * Math.Sin(a * 40 + Rng.Hash(plank, 3, face) * 6 + Math.Sin(a * 7) * 2);
                var seam = (b / m.Scale - plank) < 0.04 ? 0.6 : 1.0;
                return c * ((1 + jitter) * grain * seam);
            }
            case Pattern.Tiles:
            {
                var ta = a / m.Scale; var tb = b / m.Scale;
                var ia = (int)Math.Floor(ta); var ib = (int)Math.Floor(tb);
                var grout = ta - ia < 0.04 || tb - ib < 0.04;
                return grout ? c * 0.55 : c * (0.92 + 0.16 * Rng.Hash(ia, ib, face));
            }
            case Pattern.Fabric:
            {
                var fine = Rng.Hash((int)(a * 200), (int)(b * 200), face) * 0.12;
                var weave = 0.05 * Math.Sin(a * 300) * Math.Sin(b * 300);
                return c * (0.9 + fine + weave);
            }
            case Pattern.Paint:
            {
                var n = Rng.Hash((int)(a * 50), (int)(b * 50), face) * 0.05;
                var stripes = m.Scale > 0.2 ? 0.04 * Math.Sign(Math.Sin(a / m.Scale * Math.PI)) : 0;
                return c * (0.96 + n + stripes);
            }
            case Pattern.Plastic:
            {
                var n = Rng.Hash((int)(a * 80), (int)(b * 80), face) * 0.06;
                return c * (0.94 + n);
            }
            case Pattern.Plaster:
            {
                // Trowelled plaster: smooth low-frequency mottling plus a fine grain.
                var mottle = ValueNoise(a / m.Scale, b / m.Scale, face) * 0.14 + ValueNoise(a * 4 / m.Scale, b * 4 / m.Scale, face + 7) * 0.06;
                var grain = Rng.Hash((int)(a * 400), (int)(b * 400), face) * 0.05;
                return c * (0.88 + mottle + grain);
            }
            case Pattern.Carpet:
            {
                // Pile: strong per-fibre noise over a soft, larger-scale variation.
                var pile = Rng.Hash((int)(a * 600), (int)(b * 600), face) * 0.25;
                var wear = ValueNoise(a / m.Scale, b / m.Scale, face + 3) * 0.2;
                return c * (0.75 + pile + wear);
            }
            case Pattern.Procedural:
                return Procedural(m, a, b);
            case Pattern.Screen:
                return c * (1 + 0.5 * Math.Sin(a * 3 + b * 2 + m.Variant)) + new Vec3(0.03, 0.03, 0.03);
            default:
                return c;
        }
    }

    private static Vec3 DecalTexture(WallDecal decal, double a, double b)
    {
        var m = decal.Material;
        double u = (a - decal.A0) / (decal.A1 - decal.A0), v = (b - decal.B0) / (decal.B1 - decal.B0);
        var frame = u < 0.04 || u > 0.96 || v < 0.04 || v > 0.96;
        if (m.Pattern == Pattern.Sky)
        {
            // Window: frame and mullions around a sky gradient.
            var mullion = Math.Abs(u - 0.5) < 0.015 || (m.Variant > 1 && Math.Abs(v - 0.5) < 0.015);
            if (frame || mullion) return m.Accent;
            return m.Color * (0.85 + 0.15 * v) + new Vec3(0.1, 0.05, 0.0) * (1 - v);
        }
        // Picture: a frame around a colourful abstract painting.
        if (frame) return m.Pattern == Pattern.Procedural ? m.Accent * 0.4 : new Vec3(0.1, 0.12, 0.15);
        if (m.Pattern == Pattern.Procedural) return Procedural(m, u, v);
        var s = m.Scale;
        var wave = 0.5 + 0.5 * Math.Sin(u * s * 3.1 + m.Variant) * Math.Cos(v * s * 2.3 + m.Variant * 0.7);
        return m.Color * wave + m.Accent * (1 - wave);
    }

    /// <summary>Smooth value noise in [0, 1): hashed lattice values, bilinear with a smoothstep.</summary>
    private static double ValueNoise(double x, double y, int z)
    {
        int ix = (int)Math.Floor(x), iy = (int)Math.Floor(y);
        double fx = x - ix, fy = y - iy;
        fx = fx * fx * (3 - 2 * fx); fy = fy * fy * (3 - 2 * fy);
        var a = Rng.Hash(ix, iy, z) + (Rng.Hash(ix + 1, iy, z) - Rng.Hash(ix, iy, z)) * fx;
        var b = Rng.Hash(ix, iy + 1, z) + (Rng.Hash(ix + 1, iy + 1, z) - Rng.Hash(ix, iy + 1, z)) * fx;
        return a + (b - a) * fy;
    }

    /// <summary>A random procedural image over (u, v) in [0,1]: the material's variant picks the style and its seed.</summary>
    private static Vec3 Procedural(Material m, double u, double v)
    {
        var seed = m.Variant;
        var s = m.Scale;
        double t;
        switch (seed & 3)
        {
            case 0: // clouds: octaves of value noise
                t = 0.5 * ValueNoise(u * s, v * s, seed) + 0.3 * ValueNoise(u * s * 2.7, v * s * 2.7, seed + 1) + 0.2 * ValueNoise(u * s * 7,
                    v * s * 7, seed + 2);
                break;
            case 1: // stripes bent by noise
                t = 0.5 + 0.5 * Math.Sin((u * Math.Cos(seed) + v * Math.Sin(seed)) * s * 6 + 4 * ValueNoise(u * 3, v * 3, seed));
                break;
            case 2: // cells: nearest of a few random points
            {
                var best = double.MaxValue; var id = 0;
                for (var i = 0; i < 9; i++)
                {
                    double px = Rng.Hash(seed, i, 1), py = Rng.Hash(seed, i, 2);
                    var dd = (u - px) * (u - px) + (v - py) * (v - py);
                    if (dd < best) { best = dd; id = i; }
                }
                t = Rng.Hash(seed, id, 3);
                break;
            }
            default: // a landscape: sky gradient over a noisy horizon
            {
                var horizon = 0.45 + 0.2 * ValueNoise(u * s * 0.5, 0, seed);
                t = v > horizon ? 0.6 + 0.4 * v : 0.35 * ValueNoise(u * s * 3, v * s * 3, seed + 5);
                break;
            }
        }
        return m.Color * t + m.Accent * (1 - t);
    }

    private static bool IntersectBox(Vec3 o, Vec3 d, SceneBox box, double tMax, out double tHit, out byte faceCode)
    {
        double tNear = 1e-4, tFar = tMax;
        faceCode = 0;
        tHit = 0;
        for (var axis = 0; axis < 3; axis++)
        {
            double oa = o[axis], da = d[axis], lo = box.Min[axis], hi = box.Max[axis];
            if (Math.Abs(da) < 1e-12)
            {
                if (oa < lo || oa > hi) return false;
                continue;
            }
            var inv = 1.0 / da;
            var t0 = (lo - oa) * inv;
            var t1 = (hi - oa) * inv;
            // Entering through the min face means the outward normal points to -axis (code even), else +axis (odd).
            var code = (byte)(axis * 2 + (da > 0 ? 0 : 1));
            if (t0 > t1) (t0, t1) = (t1, t0);
            if (t0 > tNear) { tNear = t0; faceCode = code; }
            if (t1 < tFar) tFar = t1;
            if (tNear > tFar) return false;
        }
        if (tNear <= 1e-4) return false; // camera inside the box: ignore it
        tHit = tNear;
        return true;
    }

    private static bool ScreenRect(SceneBox box, CameraPose pose, CameraIntrinsics k, out int x0, out int y0, out int x1, out int y1)
    {
        double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
        var behind = 0;
        var f = pose.Forward; var r = pose.Right; var u = pose.Up;
        for (var c = 0; c < 8; c++)
        {
            var p = new Vec3((c & 1) == 0 ? box.Min.X : box.Max.X, (c & 2) == 0 ? box.Min.Y : box.Max.Y, (c & 4) == 0 ? box.Min.Z : box.Max.Z)
                - pose.Position;
            var z = p.Dot(f);
            if (z < 0.05) { behind++; continue; }
            var x = k.Fx * p.Dot(r) / z + k.Cx;
            var y = k.Cy - k.Fy * p.Dot(u) / z;
            minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
            minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
        }
        if (behind == 8) { x0 = y0 = x1 = y1 = 0; return false; }
        if (behind > 0) { minX = 0; minY = 0; maxX = k.Width - 1; maxY = k.Height - 1; }
        x0 = Math.Max(0, (int)Math.Floor(minX) - 1);
        y0 = Math.Max(0, (int)Math.Floor(minY) - 1);
        x1 = Math.Min(k.Width - 1, (int)Math.Ceiling(maxX) + 1);
        y1 = Math.Min(k.Height - 1, (int)Math.Ceiling(maxY) + 1);
        return x0 <= x1 && y0 <= y1;
    }
}
