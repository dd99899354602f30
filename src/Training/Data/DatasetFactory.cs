using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Data;

/// <summary>Opens the data set a training run names: synthetic, nyu-mat (labeled .mat), nyu (folder) or sunrgbd (folder).</summary>
public static class DatasetFactory
{
    /// <summary>The built-in synthetic worlds: "synthetic" (classic) and "synthetic-dr" (domain-randomised, sim-to-real).</summary>
    public static bool IsSynthetic(string dataset) => dataset is "synthetic" or "synthetic-dr";

    public static int Classes(TrainOptions o) => o.Dataset switch
    {
        "synthetic" or "synthetic-dr" => 13,
        "nyu" or "nyu-mat" => 40,
        "sunrgbd" => 37,
        _ => throw new ArgumentException($"unknown dataset '{o.Dataset}'; use synthetic, synthetic-dr, nyu-mat, nyu or sunrgbd"),
    };

    public static ISegDepthDataset Open(TrainOptions o, Split split, int width, int height)
    {
        switch (o.Dataset)
        {
            case "synthetic" or "synthetic-dr":
                var count = split switch { Split.Train => o.TrainSamples, _ => o.ValSamples };
                return new SyntheticDataset(o.Seed, split, count, width, height, randomised: o.Dataset == "synthetic-dr");
            case "nyu-mat":
                return new NyuMatDataset(Required(o), split == Split.Train ? "train" : "test", width, height);
            case "nyu":
                return new FolderDataset(Required(o), split == Split.Train ? "train" : "test", width, height, FolderDataset.Format.NyuMillimetres,
                    40);
            case "sunrgbd":
                return new FolderDataset(Required(o), split == Split.Train ? "train" : "test", width, height, FolderDataset.Format.SunRgbdRotated,
                    37);
            default:
                throw new ArgumentException($"unknown dataset '{o.Dataset}'");
        }
    }

    private static string Required(TrainOptions o) =>
        o.DataPath ?? throw new ArgumentException($"dataset {o.Dataset} needs --data PATH (it cannot be downloaded here)");
}
