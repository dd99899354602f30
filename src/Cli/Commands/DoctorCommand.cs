using System.CommandLine;
using System.Text.Json;
using RealtimeMtl.Cli.Doctor;

namespace RealtimeMtl.Cli.Commands;

/// <summary><c>rtmtl doctor</c>: one screen of what this machine can and cannot do, each line with its fix.</summary>
internal static class DoctorCommand
{
    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "Print the same findings as one JSON object" };
        var cmd = new Command("doctor", """
            What this machine can and cannot do: CPU and instruction set, CPU cache information and LibTorch's oneDNN
            decision (training), ONNX Runtime and its providers, CUDA/cuDNN/TensorRT libraries, the NVIDIA GPU, ffmpeg's
            H.264 encoders, a display for --show, video devices and free space in runs/. Each finding says its fix.
            Examples: ./rtmtl doctor
                      ./rtmtl doctor --json
            """) { json };
        cmd.SetAction(r =>
        {
            var checks = MachineDoctor.Run();
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    schema_version = 1,
                    schema = "rtmtl.doctor/1",
                    checks = checks.Select(c => new
                    {
                        area = c.Area, name = c.Name, status = c.Status.ToString().ToLowerInvariant(),
                        detail = c.Detail, fix = c.Fix
                    }),
                }, new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            foreach (var group in checks.GroupBy(c => c.Area))
            {
                Console.WriteLine(group.Key);
                var lines = group.ToList();
                for (var i = 0; i < lines.Count; i++)
                {
                    var c = lines[i];
                    var mark = c.Status switch { DoctorStatus.Ok => "ok  ", DoctorStatus.Note => "note", _ => "MISS" };
                    Console.WriteLine($"  {mark} {c.Name,-20} {c.Detail}");
                    // Consecutive lines with the same fix (the CUDA libraries) say it once, after the last of them.
                    var next = i + 1 < lines.Count ? lines[i + 1] : null;
                    if (c.Fix is not null && c.Status != DoctorStatus.Ok && !(next is not null && next.Status != DoctorStatus.Ok
                        && next.Fix == c.Fix))
                        Console.WriteLine($"       {"",-20} fix: {c.Fix}");
                }
            }
            var missing = checks.Count(c => c.Status == DoctorStatus.Missing);
            Console.WriteLine(missing == 0 ? "nothing missing" : $"{missing} missing (each is needed only for what its line names)");
            return 0;
        });
        return cmd;
    }
}
