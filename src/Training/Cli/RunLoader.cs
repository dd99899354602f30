using System.Text.Json;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

/// <summary>Loads a trained network from a run directory (config.json + checkpoint).</summary>
internal static class RunLoader
{
    public static (MtlNet Net, RunManifest Manifest) Load(string runDir, string? checkpoint)
    {
        var cfgPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(cfgPath)) throw new FileNotFoundException($"run directory '{runDir}' has no config.json; pass the --out folder of a " +
            $"training run.");
        var manifest = RunManifest.Read(File.ReadAllText(cfgPath))
            ?? throw new InvalidDataException($"{cfgPath} is not a run manifest");
        var ckpt = checkpoint ?? Path.Combine(runDir, File.Exists(Path.Combine(runDir, "best.pt")) ? "best.pt" : "last.pt");
        if (!File.Exists(ckpt)) throw new FileNotFoundException($"checkpoint '{ckpt}' does not exist; train first or pass --checkpoint.");
        var net = new MtlNet(manifest.Config);
        net.load(ckpt);
        net.eval();
        return (net, manifest);
    }
}
