using System.CommandLine;
using System.Text.Json;
using RealtimeMtl.Inference.Host;
using RealtimeMtl.Training.Native;

namespace RealtimeMtl.Training.Cli;

/// <summary><c>rtmtl-train onednn</c>: the oneDNN decision this process started with, and its evidence (doctor reads --json).</summary>
internal static class OneDnnCommand
{
    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "Print the decision as one JSON object" };
        var cmd = new Command("onednn", """
            Show whether LibTorch's oneDNN runs uncapped on this machine or capped to an instruction set, and why
            (CPU cache information, a known-answer convolution check). RTMTL_ONEDNN=native|auto|<isa> overrides it.
            Example: ./rtmtl doctor   (shows this among the other checks)
            """) { json };
        cmd.SetAction(r =>
        {
            var d = OneDnnGuard.Current ?? OneDnnGuard.Prepare(verbose: false);
            var cpu = CpuFacts.Read();
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    max_isa = d.MaxIsa, constrained = d.Constrained, chosen_by_user = d.ChosenByUser, cause = d.Cause, evidence = d.Evidence,
                    cpu = cpu.Model, isa = cpu.BestIsa, cache_info = cpu.HasCacheInfo,
                }));
                return 0;
            }
            Console.WriteLine(d.MaxIsa is null ? "oneDNN: uncapped" : $"oneDNN: capped to {d.MaxIsa}");
            Console.WriteLine($"why:    {d.Cause}");
            foreach (var e in d.Evidence) Console.WriteLine($"        {e}");
            return 0;
        });
        return cmd;
    }
}
