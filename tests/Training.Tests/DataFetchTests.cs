using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using PureHDF;
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

            var sun = TrainProcess.Run($"data fetch sun --to {dir.FullName}");
            Assert.Equal(2, sun.Code);
            Assert.Contains("SUNRGBD", sun.Stderr);
        }
        finally { dir.Delete(true); }
    }
}
