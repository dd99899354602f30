using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using PureHDF;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Training.Data;
using RealtimeMtl.Training.Data.Fetch;

namespace RealtimeMtl.Training.Tests;

/// <summary>
/// rtmtl data fetch nyu against a local HTTP server: the official file names, a small generated labeled .mat and
/// MATLAB level-5 split and class-map files, a connection that drops mid-file (resumed with a Range request), and a
/// corrupt file (rejected and removed).
/// </summary>
public class DataFetchTests
{
    /// <summary>A tiny file server: GET with optional Range; "drop once" cuts the first full response of a file halfway.</summary>
    private sealed class FileServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Thread _thread;
        public ConcurrentQueue<string> Requests { get; } = new();
        public Dictionary<string, byte[]> Files { get; } = [];
        public HashSet<string> DropOnce { get; } = [];
        public string Url { get; }

        public FileServer()
        {
            var port = 0;
            for (var tries = 0; ; tries++)
            {
                port = Random.Shared.Next(20000, 60000);
                try
                {
                    _listener.Prefixes.Clear();
                    _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                    _listener.Start();
                    break;
                }
                catch (HttpListenerException) when (tries < 20) { }
            }
            Url = $"http://127.0.0.1:{port}/mirror/";
            _thread = new Thread(Serve) { IsBackground = true };
            _thread.Start();
        }

        private void Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = _listener.GetContext(); }
                catch { return; }
                var name = ctx.Request.Url!.AbsolutePath.Split('/').Last();
                var range = ctx.Request.Headers["Range"];
                Requests.Enqueue($"{name} {range ?? "-"}");
                if (!Files.TryGetValue(name, out var body)) { ctx.Response.StatusCode = 404; ctx.Response.Close(); continue; }
                long from = 0;
                if (range is not null && range.StartsWith("bytes=") && range.EndsWith('-')) from = long.Parse(range[6..^1]);
                ctx.Response.StatusCode = from > 0 ? 206 : 200;
                if (from > 0) ctx.Response.Headers["Content-Range"] = $"bytes {from}-{body.Length - 1}/{body.Length}";
                ctx.Response.ContentLength64 = body.Length - from;
                try
                {
                    if (from == 0 && DropOnce.Remove(name))
                    {
                        ctx.Response.OutputStream.Write(body, 0, body.Length / 2);
                        ctx.Response.OutputStream.Flush();
                        ctx.Response.Abort(); // the connection drops halfway
                        continue;
                    }
                    ctx.Response.OutputStream.Write(body, (int)from, (int)(body.Length - from));
                    ctx.Response.Close();
                }
                catch { }
            }
        }

        public void Dispose() { _listener.Stop(); _listener.Close(); }
    }

    /// <summary>A MATLAB level-5 file with double matrices, each stored plain or zlib-compressed.</summary>
    private static byte[] MatV5(bool compress, params (string Name, int Rows, int Cols, double[] Values)[] vars)
    {
        var ms = new MemoryStream();
        var header = Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, written by the rtmtl tests".PadRight(116));
        ms.Write(header);
        ms.Write(new byte[8]); // subsystem offset
        ms.Write([0x00, 0x01, (byte)'I', (byte)'M']);
        foreach (var (name, rows, cols, values) in vars)
        {
            var m = new MemoryStream();
            void Element(int type, byte[] data)
            {
                var tag = new byte[8];
                BinaryPrimitives.WriteInt32LittleEndian(tag, type);
                BinaryPrimitives.WriteInt32LittleEndian(tag.AsSpan(4), data.Length);
                m.Write(tag); m.Write(data);
                m.Write(new byte[(8 - data.Length % 8) % 8]);
            }
            var flags = new byte[8]; flags[0] = 6; // mxDOUBLE_CLASS
            Element(6, flags);
            var dims = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(dims, rows); BinaryPrimitives.WriteInt32LittleEndian(dims.AsSpan(4), cols);
            Element(5, dims);
            Element(1, Encoding.ASCII.GetBytes(name));
            var data = new byte[values.Length * 8];
            for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * i), values[i]);
            Element(9, data);
            var matrix = m.ToArray();
            var element = new byte[8 + matrix.Length];
            BinaryPrimitives.WriteInt32LittleEndian(element, 14);
            BinaryPrimitives.WriteInt32LittleEndian(element.AsSpan(4), matrix.Length);
            matrix.CopyTo(element, 8);
            if (!compress) { ms.Write(element); continue; }
            var z = new MemoryStream();
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(element);
            var tag2 = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(tag2, 15);
            BinaryPrimitives.WriteInt32LittleEndian(tag2.AsSpan(4), (int)z.Length);
            ms.Write(tag2); ms.Write(z.ToArray());
        }
        return ms.ToArray();
    }

    /// <summary>Five 16x12 NYU-like images in MATLAB's column-major HDF5 layout, labels over raw classes 1-3.</summary>
    private static byte[] LabeledMat()
    {
        const int n = 5, w = 16, h = 12;
        var images = new byte[n * 3 * w * h];
        var depths = new float[n * w * h];
        var labels = new ushort[n * w * h];
        var rng = new Random(4);
        rng.NextBytes(images);
        for (var i = 0; i < depths.Length; i++) { depths[i] = 0.5f + (float)rng.NextDouble() * 5; labels[i] = (ushort)rng.Next(0, 4); }
        var file = new H5File
        {
            ["images"] = new H5Dataset(images, fileDims: [n, 3, w, h]),
            ["depths"] = new H5Dataset(depths, fileDims: [n, w, h]),
            ["labels"] = new H5Dataset(labels, fileDims: [n, w, h]),
        };
        var path = Path.GetTempFileName();
        try { file.Write(path); return File.ReadAllBytes(path); }
        finally { File.Delete(path); }
    }

    private static (FileServer Server, byte[] Mat) Serve()
    {
        var server = new FileServer();
        var mat = LabeledMat();
        server.Files["nyu_depth_v2_labeled.mat"] = mat;
        server.Files["splits.mat"] = MatV5(true, ("trainNdxs", 3, 1, [1, 2, 4]), ("testNdxs", 2, 1, [3, 5]));
        server.Files["classMapping40.mat"] = MatV5(false, ("mapClass", 1, 3, [5, 12, 40]));
        return (server, mat);
    }

    [Fact]
    public void Fetch_nyu_resumes_a_dropped_download_checks_it_and_prepares_the_nyu_mat_layout()
    {
        var (server, mat) = Serve();
        using var _ = server;
        server.DropOnce.Add("nyu_depth_v2_labeled.mat");
        var dir = Directory.CreateTempSubdirectory("rtmtl-fetch-");
        try
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(mat));
            var r = TrainProcess.Run($"data fetch nyu --to {dir.FullName} --url {server.Url} --sha256 {sha} --size {mat.Length}");
            Assert.True(r.Code == 0, r.Stdout + r.Stderr);
            // The first request was cut halfway; the second asked for the rest only.
            var requests = server.Requests.Where(q => q.StartsWith("nyu_depth_v2_labeled.mat")).ToList();
            Assert.Equal(["nyu_depth_v2_labeled.mat -", $"nyu_depth_v2_labeled.mat bytes={mat.Length / 2}-"], requests);
            Assert.Contains("resuming", r.Stderr);
            Assert.Equal(mat, File.ReadAllBytes(Path.Combine(dir.FullName, "nyu_depth_v2_labeled.mat")));
            Assert.False(File.Exists(Path.Combine(dir.FullName, "nyu_depth_v2_labeled.mat.part")));
            Assert.Contains($"{sha}  nyu_depth_v2_labeled.mat", File.ReadAllText(Path.Combine(dir.FullName, Downloader.SumsFile)));
            // The layout NyuMatDataset reads, from the level-5 files (one compressed, one plain).
            Assert.Equal(["1", "2", "4"], File.ReadAllLines(Path.Combine(dir.FullName, "train.txt")));
            Assert.Equal(["3", "5"], File.ReadAllLines(Path.Combine(dir.FullName, "test.txt")));
            Assert.Equal(["5", "12", "40"], File.ReadAllLines(Path.Combine(dir.FullName, "nyu40_mapping.txt")));
            Assert.Contains("3 train / 2 test images, 40 classes", r.Stdout);
            using var train = new NyuMatDataset(Path.Combine(dir.FullName, "nyu_depth_v2_labeled.mat"), "train", 16, 12);
            Assert.Equal(3, train.Count);

            // A second run finds everything verified and downloads nothing.
            server.Requests.Clear();
            var again = TrainProcess.Run($"data fetch nyu --to {dir.FullName} --url {server.Url}");
            Assert.True(again.Code == 0, again.Stderr);
            Assert.Empty(server.Requests);
            Assert.Contains("already here", again.Stderr);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void A_corrupt_download_is_rejected_and_removed_and_an_existing_file_is_never_overwritten()
    {
        var (server, mat) = Serve();
        using var _ = server;
        var dir = Directory.CreateTempSubdirectory("rtmtl-fetch-");
        try
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(mat));
            var corrupt = (byte[])mat.Clone();
            corrupt[corrupt.Length / 3] ^= 0xFF;
            server.Files["nyu_depth_v2_labeled.mat"] = corrupt;
            var r = TrainProcess.Run($"data fetch nyu --to {dir.FullName} --url {server.Url} --sha256 {sha}");
            Assert.Equal(2, r.Code);
            Assert.Contains("corrupt", r.Stderr);
            Assert.False(File.Exists(Path.Combine(dir.FullName, "nyu_depth_v2_labeled.mat")));
            Assert.False(File.Exists(Path.Combine(dir.FullName, "nyu_depth_v2_labeled.mat.part")));

            // A file already there that fails its check is left alone, with the fix.
            var mine = Path.Combine(dir.FullName, "nyu_depth_v2_labeled.mat");
            File.WriteAllText(mine, "my own file");
            var r2 = TrainProcess.Run($"data fetch nyu --to {dir.FullName} --url {server.Url} --sha256 {sha}");
            Assert.Equal(2, r2.Code);
            Assert.Contains("remove it", r2.Stderr);
            Assert.Equal("my own file", File.ReadAllText(mine));

            var unknown = TrainProcess.Run($"data fetch kitti --to {dir.FullName}");
            Assert.Equal(2, unknown.Code);
            Assert.Contains("use nyu or sun", unknown.Stderr);
        }
        finally { dir.Delete(true); }
    }

    // MATLAB level-5 building blocks: data elements, matrices of any class, char arrays and cell arrays.
    private static byte[] Element(int type, byte[] data)
    {
        var e = new byte[8 + data.Length + (8 - data.Length % 8) % 8];
        BinaryPrimitives.WriteInt32LittleEndian(e, type);
        BinaryPrimitives.WriteInt32LittleEndian(e.AsSpan(4), data.Length);
        data.CopyTo(e, 8);
        return e;
    }

    private static byte[] MatrixElement(string name, int cls, int[] dims, params byte[][] data)
    {
        var flags = new byte[8]; flags[0] = (byte)cls;
        var d = new byte[4 * dims.Length];
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(4 * i), dims[i]);
        var body = new[] { Element(6, flags), Element(5, d), Element(1, Encoding.ASCII.GetBytes(name)) }.Concat(data).SelectMany(b => b).ToArray();
        return Element(14, body);
    }

    private static byte[] CharMatrix(string name, string text) => MatrixElement(name, 4, [1, text.Length], Element(4,
        Encoding.Unicode.GetBytes(text)));

    private static byte[] Cell(string name, params string[] items) => MatrixElement(name, 1, [items.Length, 1], items.Select(t => CharMatrix("",
        t)).ToArray());

    /// <summary>A uint16 matrix (mxUINT16_CLASS) from row-major values, stored column-major as MATLAB does.</summary>
    private static byte[] UInt16Matrix(string name, int rows, int cols, ushort[] rowMajor)
    {
        var data = new byte[2 * rows * cols];
        for (var y = 0; y < rows; y++)
            for (var x = 0; x < cols; x++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * (x * rows + y)), rowMajor[y * cols + x]);
        return MatrixElement(name, 11, [rows, cols], Element(4, data));
    }

    private static byte[] MatFile(params byte[][] matrices)
    {
        var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, written by the rtmtl tests".PadRight(116)));
        ms.Write(new byte[8]);
        ms.Write([0x00, 0x01, (byte)'I', (byte)'M']);
        // The first variable compressed, the others plain, as MATLAB may mix them.
        for (var i = 0; i < matrices.Length; i++)
        {
            if (i > 0) { ms.Write(matrices[i]); continue; }
            var z = new MemoryStream();
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(matrices[i]);
            var tag = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(tag, 15);
            BinaryPrimitives.WriteInt32LittleEndian(tag.AsSpan(4), (int)z.Length);
            ms.Write(tag); ms.Write(z.ToArray());
        }
        return ms.ToArray();
    }

    private static byte[] Zip(params (string Name, byte[] Data)[] files)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, data) in files)
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(data);
            }
        return ms.ToArray();
    }

    /// <summary>
    /// SUNRGBD.zip with three scene folders (16x12: the left half object 1 "wall", the top right "Night_Stand", a
    /// "mug" bottom right, one unlabelled column) and SUNRGBDtoolbox.zip whose allsplit.mat lists two train scenes and
    /// two test scenes, one of them not in the archive.
    /// </summary>
    private static (byte[] Archive, byte[] Toolbox) SunArchives()
    {
        const int w = 16, h = 12;
        var seg = new ushort[w * h];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++) seg[y * w + x] = (ushort)(x == w - 1 ? 0 : x < w / 2 ? 1 : y < h / 2 ? 2 : 3);
        var segMat = MatFile(UInt16Matrix("seglabel", h, w, seg), Cell("names", "wall", "Night_Stand", "mug"));
        using var image = new OpenCvSharp.Mat(h, w, OpenCvSharp.MatType.CV_8UC3, new OpenCvSharp.Scalar(30, 60, 90));
        var jpg = image.ImEncode(".jpg");
        // 2.5 m, stored as SUN RGB-D does: millimetres with the 16 bits rotated left by 3.
        const ushort mm = 2500;
        using var depth = new OpenCvSharp.Mat(h, w, OpenCvSharp.MatType.CV_16UC1, OpenCvSharp.Scalar.All((ushort)((mm << 3) | (mm >> 13))));
        var png = depth.ImEncode(".png");
        var files = new List<(string, byte[])>();
        foreach (var scene in new[] { "kv1/NYUdata/NYU0001", "kv2/align_kv2/2014-01-01_00-00-00_room", "xtion/sun3ddata/scene3" })
        {
            var stem = scene[(scene.LastIndexOf('/') + 1)..];
            files.Add(($"SUNRGBD/{scene}/image/{stem}.jpg", jpg));
            files.Add(($"SUNRGBD/{scene}/depth/{stem}.png", png));
            files.Add(($"SUNRGBD/{scene}/depth_bfx/{stem}.png", png));
            files.Add(($"SUNRGBD/{scene}/seg.mat", segMat));
            files.Add(($"SUNRGBD/{scene}/intrinsics.txt", Encoding.ASCII.GetBytes("518.857901 0 284.582449\n0 519.469611 208.736166\n0 0 1\n")));
        }
        var split = MatFile(
            Cell("alltrain", "/n/fs/sun3d/data/SUNRGBD/kv1/NYUdata/NYU0001", "/n/fs/sun3d/data/SUNRGBD/kv2/align_kv2/2014-01-01_00-00-00_room/"),
            Cell("alltest", "/n/fs/sun3d/data/SUNRGBD/xtion/sun3ddata/scene3", "/n/fs/sun3d/data/SUNRGBD/kv1/NYUdata/NYU9999"));
        return (Zip([.. files]), Zip(("SUNRGBDtoolbox/traintestSUNRGBD/allsplit.mat", split), ("SUNRGBDtoolbox/readme.txt", "toolbox"u8.ToArray())));
    }

    [Fact]
    public void Fetch_sun_downloads_both_archives_and_lays_out_the_37_class_folder_data_set()
    {
        var (archive, toolbox) = SunArchives();
        using var server = new FileServer();
        server.Files["SUNRGBD.zip"] = archive;
        server.Files["SUNRGBDtoolbox.zip"] = toolbox;
        server.DropOnce.Add("SUNRGBD.zip");
        var dir = Directory.CreateTempSubdirectory("rtmtl-fetch-sun-");
        try
        {
            var r = TrainProcess.Run($"data fetch sun --to {dir.FullName} --url {server.Url} --size {archive.Length}");
            Assert.True(r.Code == 0, r.Stdout + r.Stderr);
            Assert.Contains("resuming", r.Stderr);
            Assert.Equal(archive, File.ReadAllBytes(Path.Combine(dir.FullName, "SUNRGBD.zip")));
            Assert.Equal(["kv1_NYUdata_NYU0001", "kv2_align_kv2_2014-01-01_00-00-00_room"], File.ReadAllLines(Path.Combine(dir.FullName,
                "train.txt")));
            Assert.Equal(["xtion_sun3ddata_scene3"], File.ReadAllLines(Path.Combine(dir.FullName, "test.txt")));
            Assert.Contains("2 train / 1 test images, 37 classes", r.Stdout);
            Assert.Contains("1 listed scenes not in the archive", r.Stdout);
            // The wall (left half, 96 px) and the night stand (top right, 42 px) carry classes; the mug and the last column do not: 138 / 192.
            Assert.Contains("71.9 % of pixels labelled", r.Stdout);

            using var label = OpenCvSharp.Cv2.ImRead(Path.Combine(dir.FullName, "label", "kv1_NYUdata_NYU0001.png"),
                OpenCvSharp.ImreadModes.Unchanged);
            Assert.Equal(LabelSet.SunRgbd37.IndexOf("wall") + 1, label.At<byte>(5, 2));
            Assert.Equal(LabelSet.SunRgbd37.IndexOf("night_stand") + 1, label.At<byte>(2, 12));
            Assert.Equal(0, label.At<byte>(9, 12));
            Assert.Equal(0, label.At<byte>(2, 15));

            // What training reads: 0-based classes with 255 for unlabelled, and depth in metres after the bit rotation.
            var train = new FolderDataset(dir.FullName, "train", 16, 12, FolderDataset.Format.SunRgbdRotated, 37);
            Assert.Equal(2, train.Count);
            var sample = train.Get(0);
            Assert.Equal(LabelSet.SunRgbd37.IndexOf("wall"), sample.Labels[5 * 16 + 2]);
            Assert.Equal(LabelSet.SunRgbd37.IndexOf("night_stand"), sample.Labels[2 * 16 + 12]);
            Assert.Equal(255, sample.Labels[9 * 16 + 12]);
            Assert.Equal(2.5f, sample.Depth[5 * 16 + 5], 3);
        }
        finally { dir.Delete(true); }
    }
}
