using System.Collections.Concurrent;
using System.Globalization;
using OpenCvSharp;
using PureHDF;
using PureHDF.Selections;
using PureHDF.VOL.Native;

namespace RealtimeMtl.Training.Data;

/// <summary>
/// NYU-Depth-v2 from the official labeled file <c>nyu_depth_v2_labeled.mat</c> (MATLAB v7.3 = HDF5), read with
/// PureHDF. MATLAB stores column-major, so HDF5 sees images as [N,3,W,H] uint8 (RGB), depths as [N,W,H] metres and
/// labels as [N,W,H] uint16 over the 894 raw classes (0 = unlabelled). Beside the .mat, the supplied files:
/// <c>nyu40_mapping.txt</c> (line k = the 40-class id, 1-based, of raw class k; 0 = unlabelled) and
/// <c>train.txt</c>/<c>test.txt</c> (1-based image indices of the 795/654 split).
/// </summary>
public sealed class NyuMatDataset : ISegDepthDataset, IDisposable
{
    private readonly NativeFile _file;
    private readonly IH5Dataset _images, _depths, _labels;
    private readonly int[] _indices;
    private readonly byte[] _map;
    private readonly int _w, _h, _rawW, _rawH;
    private readonly ConcurrentDictionary<int, Sample> _cache = new();
    private readonly object _gate = new();

    public NyuMatDataset(string matPath, string split, int width, int height)
    {
        if (!File.Exists(matPath)) throw new FileNotFoundException($"NYUD-v2 file '{matPath}' does not exist; download nyu_depth_v2_labeled.mat " +
            $"elsewhere and pass its path with --data.");
        var dir = Path.GetDirectoryName(Path.GetFullPath(matPath))!;
        _map = ReadMapping(Path.Combine(dir, "nyu40_mapping.txt"));
        _indices = ReadIndices(Path.Combine(dir, split + ".txt"));
        try
        {
            _file = H5File.OpenRead(matPath);
            _images = _file.Dataset("images");
            _depths = _file.Dataset("depths");
            _labels = _file.Dataset("labels");
        }
        catch (Exception e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"'{matPath}' is not a readable NYUD-v2 labeled .mat (HDF5 with images, depths, labels): {e.Message}", e);
        }
        var dims = _images.Space.Dimensions;
        if (dims.Length != 4 || dims[1] != 3) throw new InvalidDataException($"'{matPath}': images must be [N,3,W,H], found " +
            $"[{string.Join(",", dims)}]");
        _rawW = (int)dims[2];
        _rawH = (int)dims[3];
        foreach (var i in _indices)
            if (i < 1 || (ulong)i > dims[0]) throw new InvalidDataException($"{split}.txt names image {i}, but the file holds {dims[0]}");
        _w = width; _h = height;
        Name = $"nyud-v2({split})";
    }

    public string Name { get; }
    public int Count => _indices.Length;
    public int Classes => 40;

    public Sample Get(int index) => _cache.GetOrAdd(index, Load);

    private Sample Load(int index)
    {
        var n = (ulong)(_indices[index] - 1);
        ulong w = (ulong)_rawW, h = (ulong)_rawH;
        byte[] rgb; float[] depth; ushort[] raw;
        lock (_gate)
        {
            try
            {
                rgb = _images.Read<byte[]>(fileSelection: new HyperslabSelection(4, [n, 0, 0, 0], [1, 3, w, h]));
                var ds = new HyperslabSelection(3, [n, 0, 0], [1, w, h]);
                depth = _depths.Type.Size == 8 ? _depths.Read<double[]>(fileSelection: ds).Select(v => (float)v).ToArray()
                    : _depths.Read<float[]>(fileSelection: ds);
                raw = _labels.Read<ushort[]>(fileSelection: new HyperslabSelection(3, [n, 0, 0], [1, w, h]));
            }
            catch (Exception e) when (e is not InvalidDataException)
            {
                // Whatever the HDF5 reader trips over inside a damaged file, the user's answer is the same.
                throw new InvalidDataException($"'{Name}': image {n + 1} of the .mat file cannot be read (damaged or truncated file): " +
                    $"{e.Message.Split('\n')[0]}", e);
            }
            if (rgb.Length != 3 * (int)(w * h) || depth.Length != (int)(w * h) || raw.Length != (int)(w * h))
                throw new InvalidDataException($"'{Name}': image {n + 1} of the .mat file has the wrong size (damaged file)");
        }
        // [c][x][y] (column-major on disk) -> row-major HWC BGR.
        using var image = new Mat(_rawH, _rawW, MatType.CV_8UC3);
        using var depthMat = new Mat(_rawH, _rawW, MatType.CV_32FC1);
        using var labelMat = new Mat(_rawH, _rawW, MatType.CV_8UC1);
        var plane = _rawW * _rawH;
        unsafe
        {
            var ip = (byte*)image.Data; var dp = (float*)depthMat.Data; var lp = (byte*)labelMat.Data;
            for (var x = 0; x < _rawW; x++)
                for (var y = 0; y < _rawH; y++)
                {
                    var src = x * _rawH + y;
                    var dst = y * _rawW + x;
                    ip[dst * 3 + 0] = rgb[2 * plane + src];
                    ip[dst * 3 + 1] = rgb[plane + src];
                    ip[dst * 3 + 2] = rgb[src];
                    dp[dst] = depth[src];
                    var c = raw[src];
                    lp[dst] = c == 0 || c >= _map.Length ? (byte)255 : _map[c];
                }
        }
        return FolderDataset.ToSample(image, depthMat, labelMat, _w, _h);
    }

    /// <summary>Raw class k (1-based line k) to 0-based 40-class id; 0 in the file = unlabelled = 255 here.</summary>
    private static byte[] ReadMapping(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"NYUD-v2 class mapping '{path}' is missing; supply the 894->40 mapping, one " +
            $"40-class id per line.");
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        var map = new byte[lines.Length + 1];
        map[0] = 255;
        for (var i = 0; i < lines.Length; i++)
        {
            var v = int.Parse(lines[i].Trim(), CultureInfo.InvariantCulture);
            if (v is < 0 or > 40) throw new InvalidDataException($"{path}:{i + 1}: class id {v} is outside 0..40");
            map[i + 1] = v == 0 ? (byte)255 : (byte)(v - 1);
        }
        return map;
    }

    private static int[] ReadIndices(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"NYUD-v2 split file '{path}' is missing; supply train.txt and test.txt with " +
            $"1-based image indices.");
        return File.ReadAllLines(path).Where(l => l.Trim().Length > 0).Select(l => int.Parse(l.Trim(), CultureInfo.InvariantCulture)).ToArray();
    }

    public void Dispose() => _file.Dispose();
}
