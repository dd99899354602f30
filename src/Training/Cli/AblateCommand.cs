using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RealtimeMtl.Training.Models;
using RealtimeMtl.Training.Train;

namespace RealtimeMtl.Training.Cli;

/// <summary>Trains a set of variants under one budget and prints tables shaped like the paper's Tables 3, 4 and 5.</summary>
internal static class AblateCommand
{
    public static Command Build()
    {
        var set = new TrainOptionSet();
        var variants = new Option<string>("--variants") { Description = "Comma-separated architectures, or 'all' (Tables 3-4) ", DefaultValueFactory = _ => "stl_aspp_seg,stl_aspp_depth,mtl,mtl_se,mtl_pp,mtl_spp,mtl_ssw,mtl_se+aspp,mtl_sw+pp" };
        var swInits = new Option<string>("--sw-inits") { Description = "SW initialisations for Table 5 (self/cross pairs, ';'-separated), empty to skip", DefaultValueFactory = _ => "0.2,0.8;0.8,0.2;0.5,0.5;0.1,0.9;0.9,0.1" };
        var report = new Option<string>("--report") { Description = "Write the tables here as NAME.md and NAME.json", DefaultValueFactory = _ => "runs/ablation" };
        var cmd = new Command("ablate", """
            Train a chosen set of variants under one budget (same data, epochs, seed) and print tables shaped like the paper's
            Table 3 (single vs multi-task), Table 4 (modules) and Table 5 (SW initialisations): mIoU, RMSE, log RMSE, parameters
            (of this run's size, and of the paper-sized network in units of 2^20).
            Example: rtmtl-train ablate --epochs 2 --limit 200 --variants mtl,mtl_spp,mtl_ssw --sw-inits "0.9,0.1;0.5,0.5"
            """) { variants, swInits, report };
        set.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var baseOptions = set.Read(r);
            var names = r.GetValue(variants)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // Check every name before hours of training start, not when its turn comes.
            foreach (var name in names) ModelConfig.ParseVariant(name);
            var pairs = r.GetValue(swInits)!.Split(';', StringSplitOptions.RemoveEmptyEntries);
            foreach (var pair in pairs)
            {
                var p = pair.Split(',');
                if (p.Length != 2 || !float.TryParse(p[0], CultureInfo.InvariantCulture, out _) || !float.TryParse(p[1], CultureInfo.InvariantCulture, out _))
                    throw new ArgumentException($"--sw-inits: '{pair}' must be a self,cross pair such as 0.9,0.1 (pairs separated by ';')");
            }
            var rows = new List<Row>();
            foreach (var name in names)
                rows.Add(Train(baseOptions with { Architecture = name, OutDir = Path.Combine(baseOptions.OutDir, "ablate-" + name.Replace("+", "_")) }, "4", name));
            foreach (var pair in pairs)
            {
                var p = pair.Split(',');
                var self = float.Parse(p[0], CultureInfo.InvariantCulture);
                var cross = float.Parse(p[1], CultureInfo.InvariantCulture);
                rows.Add(Train(baseOptions with { Architecture = "mtl_ssw", SwSelf = self, SwCross = cross, OutDir = Path.Combine(baseOptions.OutDir, $"ablate-sw-{self}-{cross}") }, "5", $"MTL_SSW ({self},{cross})"));
            }
            var md = Markdown(rows, baseOptions);
            Console.WriteLine(md);
            var reportPath = r.GetValue(report)!;
            OutputFolder.EnsureParent(reportPath, "--report");
            File.WriteAllText(reportPath + ".md", md);
            File.WriteAllText(reportPath + ".json", JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            Console.WriteLine($"wrote {reportPath}.md and {reportPath}.json");
            return 0;
        });
        return cmd;
    }

    public sealed record Row(string Table, string Name, double MeanIoU, double Rmse, double LogRmse, double ParamsM, double PaperParamsMi, double SecondsPerIteration);

    private static Row Train(TrainOptions o, string table, string name)
    {
        var result = new Trainer(o with { Quiet = true }, stop: TrainingCli.Stop).Run();
        var paper = ModelConfig.Paper(ModelConfig.ParseVariant(o.Architecture));
        double paperMi;
        using (var p = new MtlNet(paper)) paperMi = p.ParameterCount / 1048576.0;
        double paramsM;
        using (var n = new MtlNet(result.Config)) paramsM = n.ParameterCount / 1e6;
        return new Row(table, table == "5" ? name : result.Config.ArchitectureName, result.Best.MeanIoU, result.Best.Rmse, result.Best.LogRmse, paramsM, paperMi, result.SecondsPerIteration);
    }

    private static string Markdown(List<Row> rows, TrainOptions o)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Budget: {o.Dataset}, {o.Epochs} epochs, batch {o.BatchSize}, {(o.Limit is { } l ? $"{l} samples" : $"{o.TrainSamples} samples")}, seed {o.Seed}, size {o.Size}; metrics on the validation split, best epoch.");
        void Table(string title, IEnumerable<Row> subset)
        {
            var list = subset.ToList();
            if (list.Count == 0) return;
            sb.AppendLine();
            sb.AppendLine(title);
            sb.AppendLine();
            sb.AppendLine("| Method | mIoU (%) | RMSE (m) | log RMSE | Params (M, this size) | Params (paper size, 2^20) |");
            sb.AppendLine("|---|---|---|---|---|---|");
            foreach (var r in list)
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {(double.IsNaN(r.MeanIoU) ? "-" : (r.MeanIoU * 100).ToString("0.00", CultureInfo.InvariantCulture))} | {TrainingCli.F(r.Rmse)} | {TrainingCli.F(r.LogRmse)} | {r.ParamsM:0.00} | {r.PaperParamsMi:0.00} |"));
        }
        Table("Table 3 shape: single-task vs multi-task", rows.Where(r => r.Table == "4" && (r.Name.StartsWith("STL") || r.Name == "MTL")));
        Table("Table 4 shape: modules", rows.Where(r => r.Table == "4" && !r.Name.StartsWith("STL")));
        Table("Table 5 shape: selective-weights initialisation (self, cross)", rows.Where(r => r.Table == "5"));
        return sb.ToString();
    }
}
