using RealtimeMtl.Common.Logging;
using static TorchSharp.torch;

namespace RealtimeMtl.Training.Train;

/// <summary>cpu | cuda | auto. CUDA needs the GPU build of LibTorch (-p:RtmtlGpu=true) and a device; otherwise one line and CPU.</summary>
public static class DeviceSelection
{
    public static Device Select(string requested, IEventLog log)
    {
        switch (requested.ToLowerInvariant())
        {
            case "cpu":
                return CPU;
            case "cuda" or "auto":
                bool available;
                try { available = cuda.is_available(); }
                catch (Exception) { available = false; }
                if (available) { log.Info("device: cuda"); return CUDA; }
                if (requested == "cuda") log.Warning("CUDA requested but not available (CPU build of LibTorch or no GPU); training on CPU. Build " +
                    "with -p:RtmtlGpu=true on a CUDA machine.");
                return CPU;
            default:
                throw new ArgumentException($"unknown device '{requested}'; use cpu, cuda or auto");
        }
    }
}
