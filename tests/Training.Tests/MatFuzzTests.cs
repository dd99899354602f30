using CsCheck;
using PureHDF;
using RealtimeMtl.Tests.Shared;
using RealtimeMtl.Training.Data;

namespace RealtimeMtl.Training.Tests;

/// <summary>Bounded fuzzing of the NYUD-v2 .mat reader: every damaged file ends in one clear error or valid samples.</summary>
public class MatFuzzTests
{
    private static string Regressions
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "RealtimeMtl.sln"))) return Path.Combine(d.FullName, "tests", "fuzz-regressions");
            throw new InvalidOperationException("repository root not found");
        }
    }

    private static byte[] ValidMat()
    {
        const int n = 2, w = 8, h = 6;
        var dir = Directory.CreateTempSubdirectory("rtmtl-matseed-").FullName;
        try
        {
            var file = new H5File
            {
                ["images"] = new H5Dataset(Enumerable.Range(0, n * 3 * w * h).Select(i => (byte)i).ToArray(), fileDims: [n, 3, w, h]),
                ["depths"] = new H5Dataset(Enumerable.Range(0, n * w * h).Select(i => 1f + i * 0.01f).ToArray(), fileDims: [n, w, h]),
                ["labels"] = new H5Dataset(Enumerable.Range(0, n * w * h).Select(i => (ushort)(i % 4)).ToArray(), fileDims: [n, w, h]),
            };
            var path = Path.Combine(dir, "seed.mat");
            file.Write(path);
            return File.ReadAllBytes(path);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static void Read(string path)
    {
        var dir = Path.GetDirectoryName(path)!;
        File.WriteAllLines(Path.Combine(dir, "nyu40_mapping.txt"), ["5", "12", "0"]);
        File.WriteAllLines(Path.Combine(dir, "train.txt"), ["1", "2"]);
        using var data = new NyuMatDataset(path, "train", 8, 6);
        for (var i = 0; i < data.Count; i++) Assert.Equal(8 * 6 * 3, data.Get(i).Image.Length);
    }

    private static bool EndsCleanly(byte[] input) => FuzzInputs.EndsCleanly("mat", input, Read, ".mat",
        e => e is InvalidDataException or FileNotFoundException or ArgumentException or FormatException, Regressions, TimeSpan.FromSeconds(20));

    [Fact]
    public void Damaged_mat_files_end_with_samples_or_one_clear_error()
    {
        FuzzInputs.Replay("mat", EndsCleanly, Regressions);
        FuzzInputs.Mutations(ValidMat()).Sample(EndsCleanly, iter: 60, threads: 1);
    }
}
