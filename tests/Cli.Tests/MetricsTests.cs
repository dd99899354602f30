using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using RealtimeMtl.Tests.Shared;

namespace RealtimeMtl.Cli.Tests;

/// <summary>--metrics ADDR:PORT: Prometheus's /metrics alone, with stage and sink histograms, process and runtime metrics; and the Grafana dashboard
/// in docs/ asks only for what it exports.</summary>
public class MetricsTests
{
    private static Dictionary<string, double> Samples(string text)
    {
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#')) continue;
            var m = Regex.Match(line, @"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$");
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            samples[m.Groups[1].Value + m.Groups[2].Value] = double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        return samples;
    }

    [Fact]
    public async Task Metrics_alone_serve_stage_sink_process_and_runtime_series_behind_the_token_and_the_dashboard_queries_only_those()
    {
        var dir = Path.GetDirectoryName(Engine.Temp("x"))!;
        var record = Path.Combine(dir, "m.mp4");
        string text = "", page = "";
        HttpStatusCode anonymous = 0;
        var r = await Engine.ServeAsync($"run --source synthetic:frames=100000,size=96x72 --realtime --record {record} --metrics 127.0.0.1:0 " +
            $"--token metrics-secret-1", async (p, ports) =>
        {
            try
            {
                Assert.True(ports.Metrics > 0, "the engine prints the metrics port it bound");
                Assert.Equal(-1, ports.Web);
                using var http = new HttpClient();
                anonymous = (await http.GetAsync($"http://127.0.0.1:{ports.Metrics}/metrics")).StatusCode;
                http.DefaultRequestHeaders.Authorization = new("Bearer", "metrics-secret-1");
                // Frames flow before the first scrape: wait until the recorder has written some.
                await Engine.Until(() =>
                {
                    text = http.GetStringAsync($"http://127.0.0.1:{ports.Metrics}/metrics").GetAwaiter().GetResult();
                    return Regex.IsMatch(text, @"rtmtl_sink_write_seconds_count\{sink=""record"",camera=""cam0""\} [1-9]");
                }, "recorded frames in /metrics");
                page = (await http.GetAsync($"http://127.0.0.1:{ports.Metrics}/")).StatusCode.ToString();
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Equal(nameof(HttpStatusCode.NotFound), page);
        var samples = Samples(text);
        foreach (var stage in new[] { "queued", "infer", "pre", "model", "post", "render", "end_to_end" })
            Assert.True(samples[$"rtmtl_stage_latency_seconds_count{{stage=\"{stage}\",camera=\"cam0\"}}"] > 0, stage);
        Assert.True(samples["rtmtl_frames_total{camera=\"cam0\"}"] > 0);
        // The process and the .NET runtime.
        Assert.True(samples["process_cpu_seconds_total"] > 0);
        Assert.True(samples["process_working_set_bytes"] > 1e6);
        Assert.Contains(samples.Keys, k => k.StartsWith("dotnet_collection_count_total"));

        // Every metric a query of the shipped dashboard names is one the engine exports.
        // Exported: every sample's name, and every family the engine declares (# TYPE), counters with no events yet included.
        var exported = samples.Keys.Select(k => k.Split('{')[0]).ToHashSet();
        foreach (System.Text.RegularExpressions.Match m in Regex.Matches(text, @"^# TYPE (\w+) (\w+)$", RegexOptions.Multiline))
        {
            exported.Add(m.Groups[1].Value);
            if (m.Groups[2].Value == "histogram") exported.UnionWith(new[] { "_bucket", "_sum", "_count" }.Select(x => m.Groups[1].Value + x));
        }
        var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Engine.Root, "docs", "grafana-dashboard.json"))).RootElement;
        var queries = dashboard.GetProperty("panels").EnumerateArray().SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t
            => t.GetProperty("expr").GetString()!).ToList();
        Assert.True(queries.Count >= 10, $"{queries.Count} queries");
        var named = queries.SelectMany(q => Regex.Matches(q, @"\b(rtmtl_\w+|process_\w+|dotnet_\w+)").Select(m => m.Value)).ToHashSet();
        // rtmtl_batch_size exists only with several cameras; the single-camera run above exports the rest.
        named.ExceptWith(["rtmtl_batch_size_sum", "rtmtl_batch_size_count"]);
        Assert.Empty(named.Except(exported));
    }

    [Fact]
    public async Task With_several_cameras_metrics_alone_have_a_camera_label_each_and_the_batch_sizes()
    {
        string text = "";
        var r = await Engine.ServeAsync("run --source a=synthetic:frames=100000,size=96x72 --source b=synthetic:frames=100000,size=64x48 " +
            "--realtime --metrics 127.0.0.1:0", async (p, ports) =>
        {
            try
            {
                using var http = new HttpClient();
                await Engine.Until(() =>
                {
                    text = http.GetStringAsync($"http://127.0.0.1:{ports.Metrics}/metrics").GetAwaiter().GetResult();
                    return text.Contains("rtmtl_frames_total{camera=\"b\"}") && Regex.IsMatch(text, @"rtmtl_batch_size_count [1-9]");
                }, "both cameras and batches in /metrics");
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
        var samples = Samples(text);
        Assert.True(samples["rtmtl_frames_total{camera=\"a\"}"] > 0);
        Assert.True(samples["rtmtl_stage_latency_seconds_count{stage=\"infer\",camera=\"b\"}"] > 0);
        var dashboard = File.ReadAllText(Path.Combine(Engine.Root, "docs", "grafana-dashboard.json"));
        foreach (var name in new[] { "rtmtl_batch_size_sum", "rtmtl_batch_size_count" })
        {
            Assert.Contains(name,
            dashboard); Assert.Contains(samples.Keys, k => k.StartsWith(name));
        }
    }

    [Fact]
    public async Task Classes_in_view_are_counted_from_the_first_frame_over_a_stated_window_before_any_viewer_connects()
    {
        JsonElement stats = default;
        var r = await Engine.ServeAsync("run --source synthetic:frames=100000,size=96x72 --realtime --serve 127.0.0.1:0", async (p, ports) =>
        {
            try
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports.Web}") };
                // No MJPEG viewer ever connects: the page's class panel is filled all the same.
                await Engine.Until(() =>
                {
                    stats = JsonDocument.Parse(http.GetStringAsync("/api/stats").GetAwaiter().GetResult()).RootElement;
                    return stats.GetProperty("classes").GetArrayLength() > 0;
                }, "classes in /api/stats");
            }
            finally { Signals.Send(p.Id, 2); }
        });
        Assert.True(r.Code == 0, r.Stderr);
        Assert.Equal(0, stats.GetProperty("viewers").GetInt32());
        Assert.Equal(30, stats.GetProperty("classes_window_frames").GetInt32());
        var shares = stats.GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("share").GetDouble()).ToList();
        Assert.All(shares, v => Assert.InRange(v, 0.005, 1));
        // Classes under 0.5 % are left out, and each share is rounded to 4 decimals: with n classes in the model the
        // listed shares sum to 1 less at most 0.005 n, plus or minus 0.00005 n.
        using var model = new RealtimeMtl.Inference.OnnxMtlModel(Engine.ShippedModel);
        var n = model.Info.Labels.Count;
        Assert.InRange(shares.Sum(), 1 - 0.00505 * n, 1 + 0.00005 * n);
    }
}
