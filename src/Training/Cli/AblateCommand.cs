using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

/// <summary>Trains a set of variants under one budget and prints tables shaped like the paper's Tables 3, 4 and 5.</summary>
internal static class AblateCommand
{
    public static Command Build()
    {
        var set = new TrainOptionSet();
        var variants = new Option<string>("--variants")
        {
            Description = "Comma-separated architectures, or 'all' (Tables 3-4) ",
            DefaultValueFactory = _ => "stl_aspp_seg,stl_aspp_depth,mtl,mtl_se,mtl_pp,mtl_spp,mtl_ssw,mtl_se+aspp,mtl_sw+pp"
        };
        var swInits = new Option<string>("--sw-inits")
        {
            Description =
            "SW initialisations for Table 5 (self/cross pairs, ';'-separated), empty to skip", DefaultValueFactory = _
                => "0.2,0.8;0.8,0.2;0.5,0.5;0.1,0.9;0.9,0.1"
        };
        var seeds = new Option<string?>("--seeds")
        {
            Description =
            "Train every variant once per seed (e.g. 1,2,3) and report mean +- std; default: --seed only"
        };
        var report = new Option<string>("--report")
        {
            Description = "Write the tables here as NAME.md and NAME.json", DefaultValueFactory = _
            => "runs/ablation"
        };
        var cmd = new Command("ablate", """
            Train a chosen set of variants under one budget (same data, epochs, seed) and print tables shaped like the paper's
            Table 3 (single vs multi-task), Table 4 (modules) and Table 5 (SW initialisations): mIoU, RMSE, log RMSE, parameters
            (of this run's size, and of the paper-sized network in units of 2^20).
            Example: ./rtmtl ablate --epochs 2 --limit 200 --variants mtl,mtl_spp,mtl_ssw --sw-inits "0.9,0.1;0.5,0.5"
            With --seeds the tables give mean +- std over the seeds; the report is rewritten after every run, so an
            interrupted ablation keeps what finished (and --resume skips finished runs).
            """) { variants, swInits, seeds, report };
        set.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var baseOptions = set.Read(r);
            var names = r.GetValue(variants)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // Check every name before hours of training start, not when its turn comes.
            foreach (var name in names) ModelConfig.ParseVariant(name);
            var pairs = r.GetValue(swInits)!.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
            {
                var p = pair.Split(',');
                if (p.Length != 2 || !float.TryParse(p[0], CultureInfo.InvariantCulture, out var self) || !float.TryParse(p[1],
                    CultureInfo.InvariantCulture, out var cross))
                    throw new ArgumentException($"--sw-inits: '{pair}' must be a self,cross pair such as 0.9,0.1 (pairs separated by ';')");
                return (Self: self, Cross: cross);
            }).ToList();
            var seedList = r.GetValue(seeds) is { } sl
                ? sl.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => int.TryParse(x, out var v) ? v
                    : throw new ArgumentException($"--seeds '{sl}' must be whole numbers such as 1,2,3")).ToArray()
                : [baseOptions.Seed];
            var reportPath = r.GetValue(report)!;
            OutputFolder.EnsureParent(reportPath, "--report");
            var jobs = new List<(TrainOptions Options, string Table, string Name)>();
            foreach (var seed in seedList)
            {
                foreach (var name in names)
                    jobs.Add((baseOptions with
                    {
                        Architecture = name,
                        Seed = seed,
                        OutDir = Path.Combine(baseOptions.OutDir,
                        $"ablate-{name.Replace("+", "_")}-s{seed}")
                    }, "4", name));
                foreach (var (self, cross) in pairs)
                {
                    jobs.Add((baseOptions with
                    {
                        Architecture = "mtl_ssw",
                        SwSelf = self,
                        SwCross = cross,
                        Seed = seed,
                        OutDir = Path.Combine(baseOptions.OutDir, $"ablate-sw-{self}-{cross}-s{seed}")
                    }, "5", $"MTL_SSW ({self},{cross})"));
                }
            }
            var rows = new List<Row>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < jobs.Count; i++)
            {
                var (o, table, name) = jobs[i];
                var eta = i == 0 ? "" : $", ETA {RealtimeMtl.Common.Measuring.ProgressLine.Eta(clock.Elapsed.TotalSeconds / i * (jobs.Count - i))}";
                Console.Error.WriteLine($"ablate: run {i + 1}/{jobs.Count}: {name}, seed {o.Seed}{eta}");
                rows.Add(Train(o, table, name) with { Seed = o.Seed });
                var md = Markdown(rows, baseOptions, seedList);
                AtomicFile.Write(reportPath + ".md", md);
                AtomicFile.Write(reportPath + ".json", JsonSerializer.Serialize(rows, new JsonSerializerOptions
                {
                    WriteIndented = true,
                    NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals
                }));
            }
            Console.WriteLine(Markdown(rows, baseOptions, seedList));
            Console.WriteLine($"wrote {reportPath}.md and {reportPath}.json");
            return 0;
        });
        return cmd;
    }

    public sealed record Row(string Table, string Name, double MeanIoU, double Rmse, double LogRmse, double ParamsM, double PaperParamsMi,
        double SecondsPerIteration)
    {
        public int Seed { get; init; }
    }

    private static Row Train(TrainOptions o, string table, string name)
    {
        var result = new Trainer(o with { Quiet = true }, stop: TrainingCli.Stop).Run();
        var paper = ModelConfig.Paper(ModelConfig.ParseVariant(o.Architecture));
        double paperMi;
        using (var p = new MtlNet(paper)) paperMi = p.ParameterCount / 1048576.0;
        double paramsM;
        using (var n = new MtlNet(result.Config)) paramsM = n.ParameterCount / 1e6;
        return new Row(table, table == "5" ? name : result.Config.ArchitectureName, result.Best.MeanIoU, result.Best.Rmse, result.Best.LogRmse,
            paramsM, paperMi, result.SecondsPerIteration);
    }

    private static string Markdown(List<Row> all, TrainOptions o, int[] seeds)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Budget: {o.Dataset}, {o.Epochs} epochs, batch {o.BatchSize}, " +
            $"{(o.Limit is { } l ? $"{l} samples" : $"{o.TrainSamples} samples")}, input " +
                $"{(o.InputWidth is { } iw ? $"{iw}x{o.InputHeight}" : "default")}, backbone {o.Backbone} (pretrained {o.Pretrained}), seeds " +
                    $"{string.Join(",", seeds)}, size {o.Size}; metrics on the validation split, best epoch; mean +- std over the seeds that " +
                        $"finished (n).");
        // One row per configuration: mean and standard deviation over its seeds.
        var rows = all.GroupBy(r => (r.Table, r.Name)).Select(g =>
        {
            var first = g.First();
            return (Row: first with { MeanIoU = g.Average(x => x.MeanIoU), Rmse = g.Average(x => x.Rmse), LogRmse = g.Average(x => x.LogRmse) },
                SdIoU: Sd(g.Select(x => x.MeanIoU)), SdRmse: Sd(g.Select(x => x.Rmse)), SdLog: Sd(g.Select(x => x.LogRmse)), N: g.Count());
        }).ToList();
        static double Sd(IEnumerable<double> v)
        {
            var a = v.ToArray();
            if (a.Length < 2) return double.NaN;
            var m = a.Average();
            return Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / (a.Length - 1));
        }
        static string Pm(double mean, double sd, string fmt) => double.IsNaN(mean) ? "-" : mean.ToString(fmt, CultureInfo.InvariantCulture)
            + (double.IsNaN(sd) ? "" : " +- " + sd.ToString(fmt, CultureInfo.InvariantCulture));
        void Table(string title, IEnumerable<(Row Row, double SdIoU, double SdRmse, double SdLog, int N)> subset)
        {
            var list = subset.ToList();
            if (list.Count == 0) return;
            sb.AppendLine();
            sb.AppendLine(title);
            sb.AppendLine();
            sb.AppendLine("| Method | mIoU (%) | RMSE (m) | log RMSE | n | Params (M, this size) | Params (paper size, 2^20) |");
            sb.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var x in list)
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {x.Row.Name} | {Pm(x.Row.MeanIoU * 100, x.SdIoU * 100, "0.00")} | {Pm(x.Row.Rmse, x.SdRmse, "0.0000")} | " +
                        $"{Pm(x.Row.LogRmse, x.SdLog, "0.0000")} | {x.N} | {x.Row.ParamsM:0.00} | {x.Row.PaperParamsMi:0.00} |"));
        }
        Table("Table 3 shape: single-task vs multi-task", rows.Where(r => r.Row.Table == "4" && (r.Row.Name.StartsWith("STL")
            || r.Row.Name == "MTL")));
        Table("Table 4 shape: modules", rows.Where(r => r.Row.Table == "4" && !r.Row.Name.StartsWith("STL")));
        Table("Table 5 shape: selective-weights initialisation (self, cross)", rows.Where(r => r.Row.Table == "5"));
        return sb.ToString();
    }
}
