using System.Xml.Linq;
using RealtimeMtl.Pipeline.Stages;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>The layering docs/architecture.md draws: a core, elements that depend only on it, Training beside the engine.</summary>
public class ArchitectureTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RealtimeMtl.sln"))) return d.FullName;
        throw new InvalidOperationException("RealtimeMtl.sln not found above the test's folder");
    }

    private static XDocument Project(string folder) =>
        XDocument.Load(Directory.GetFiles(Path.Combine(Root, folder), "*.csproj").Single());

    /// <summary>Project names (RealtimeMtl.X -> X) a project references.</summary>
    private static HashSet<string> ProjectReferences(string folder) =>
        Project(folder).Descendants("ProjectReference").Select(r
            => Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!).Replace("RealtimeMtl.", "")).ToHashSet();

    private static HashSet<string> Packages(string folder)
    {
        var p = Project(folder);
        return p.Descendants("PackageReference").Select(r => (string)r.Attribute("Include")!)
            .Concat(p.Descendants("FrameworkReference").Select(r => (string)r.Attribute("Include")!)).ToHashSet();
    }

    public static TheoryData<string> Elements => new() { "Inference", "Render", "Sinks", "Serving", "Quality", "Ros2" };

    [Fact]
    public void Every_relative_link_in_the_readme_and_the_docs_resolves()
    {
        var pages = Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal)
            .Prepend(Path.Combine(Root, "README.md"));
        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var page in pages)
        {
            // Links in code blocks are examples, not links.
            var text = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(page), "```.*?```", "",
                System.Text.RegularExpressions.RegexOptions.Singleline);
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"\]\(([^)\s]+)\)"))
            {
                var target = m.Groups[1].Value;
                if (System.Text.RegularExpressions.Regex.IsMatch(target, "^[a-z]+:") || target.StartsWith('#')) continue;
                checkedLinks++;
                var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target.Split('#')[0]));
                if (!File.Exists(path) && !Directory.Exists(path)) broken.Add($"{Path.GetRelativePath(Root, page)}: {target}");
            }
        }
        Assert.True(checkedLinks > 10, $"only {checkedLinks} relative links found");
        Assert.True(broken.Count == 0, "links that lead nowhere:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void Every_whole_file_write_under_src_goes_through_atomic_file()
    {
        // Common/Files/AtomicFile: a temporary file renamed over the target, so a crash or a full disk never leaves half
        // a file or destroys the one that was there.
        var direct = Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !System.Text.RegularExpressions.Regex.IsMatch(f, "/(obj|bin)(-[a-z]+)?/")
                && !f.EndsWith("AtomicFile.cs", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(t => System.Text.RegularExpressions.Regex.IsMatch(t.line, @"\bFile\.(WriteAll|AppendAll)"))
            .Select(t => $"{Path.GetRelativePath(Root, t.f)}:{t.i + 1}").ToList();
        Assert.True(direct.Count == 0, "whole-file writes outside AtomicFile: " + string.Join(", ", direct));
    }

    [Fact]
    public void The_engine_is_assembled_in_one_place()
    {
        // src/Cli/Composition/EngineBuilder: every command (and bench) builds its engine there.
        var built = Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !System.Text.RegularExpressions.Regex.IsMatch(f, "/(obj|bin)(-[a-z]+)?/"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(t => t.line.Contains("new EnginePipeline(", StringComparison.Ordinal))
            .Select(t => Path.GetRelativePath(Root, t.f)).ToList();
        Assert.Equal(["src/Cli/Composition/EngineBuilder.cs"], built);
    }

    [Fact]
    public void The_core_references_only_common_and_owns_the_frame_source_and_label_contracts()
    {
        Assert.Equal(["Common"], ProjectReferences("src/Pipeline").Order().ToArray());
        Assert.Equal(["OpenCvSharp4", "OpenCvSharp4.official.runtime.linux-x64"], Packages("src/Pipeline").Order().ToArray());
        // Below the core: what every writer and command shares, with no references and no packages at all.
        Assert.Empty(ProjectReferences("src/Common"));
        Assert.Empty(Packages("src/Common"));
        // Capture implements the core's source contract and depends on it.
        Assert.Equal(["Common", "Pipeline"], ProjectReferences("src/Capture").Order().ToArray());
        Assert.Equal(typeof(EnginePipeline).Assembly, typeof(Pipeline.Frames.Frame).Assembly);
        Assert.Equal(typeof(EnginePipeline).Assembly, typeof(Pipeline.Sources.IFrameSource).Assembly);
        Assert.Equal(typeof(EnginePipeline).Assembly, typeof(Pipeline.Labels.LabelSet).Assembly);
        // And the built assembly agrees: no source, and nothing of ASP.NET, gRPC or ONNX Runtime.
        var referenced = typeof(EnginePipeline).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(referenced, n => n.StartsWith("Microsoft.AspNetCore") || n.StartsWith("Grpc") || n.StartsWith("Google.Protobuf")
            || n.StartsWith("Microsoft.ML.OnnxRuntime") || n == "RealtimeMtl.Capture");
    }

    [Fact]
    public void The_core_holds_engine_mechanics_and_contracts_in_at_most_1500_lines_of_code()
    {
        // Lines of code: neither blank nor a comment. The run's summary and its JSON, the model metadata's parsing, ROS
        // messages and generic helpers (Common) live outside it.
        var code = Directory.GetFiles(Path.Combine(Root, "src", "Pipeline"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !System.Text.RegularExpressions.Regex.IsMatch(f, "/(obj|bin)(-[a-z]+)?/"))
            .SelectMany(File.ReadLines).Count(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith("//", StringComparison.Ordinal));
        Assert.InRange(code, 500, 1500);
        var types = typeof(EnginePipeline).Assembly.GetTypes().Select(t => t.Name).ToList();
        Assert.DoesNotContain(types, n => n.StartsWith("RunSummary", StringComparison.Ordinal) || n.StartsWith("Ros", StringComparison.Ordinal)
            || n == "NewestWins`1" || n == "LatencyRecorder");
    }

    [Fact]
    public void The_core_holds_only_the_cores_namespaces_and_gets_its_post_processing_injected()
    {
        // Post-processing (upsampling, smoothing) belongs to the model's project: the core only declares the interface.
        var namespaces = typeof(EnginePipeline).Assembly.GetExportedTypes().Select(t => t.Namespace!).ToHashSet();
        Assert.Equal(["RealtimeMtl.Pipeline.Frames", "RealtimeMtl.Pipeline.Imaging", "RealtimeMtl.Pipeline.Labels", "RealtimeMtl.Pipeline.Metrics",
            "RealtimeMtl.Pipeline.Model", "RealtimeMtl.Pipeline.Sinks", "RealtimeMtl.Pipeline.Sources", "RealtimeMtl.Pipeline.Stages"],
            namespaces.Order().ToArray());
        var stages = typeof(EnginePipeline).Assembly.GetExportedTypes().Where(t => t.Namespace == "RealtimeMtl.Pipeline.Stages" && t.IsClass
            && !t.IsAbstract)
            .Select(t => t.Name).ToHashSet();
        Assert.DoesNotContain(stages, n => n.Contains("Upsampl") || n.Contains("Smooth"));
        Assert.Contains(typeof(EnginePipeline).GetMethod(nameof(EnginePipeline.AddCamera))!.GetParameters(),
            p => p.ParameterType == typeof(IPostProcessor));
    }

    [Theory]
    [MemberData(nameof(Elements))]
    public void An_element_references_the_core_and_no_other_element(string element)
    {
        var refs = ProjectReferences($"src/{element}");
        Assert.Contains("Pipeline", refs);
        // Beside the core: the sources (Ros2 opens ros2: ones), the feed's contract (Serving hosts the feed) and a frame as
        // ROS 2 messages (MCAP, Foxglove and DDS carry the same bytes); those two stand on the core alone.
        Assert.Empty(refs.Except(["Pipeline", "Capture", "Feed", "RosFrames"]));
        Assert.Equal(["Pipeline"], ProjectReferences("src/RosFrames").ToArray());
    }

    [Fact]
    public void Only_the_serving_element_carries_aspnet_and_grpc_and_only_inference_carries_onnx_runtime()
    {
        foreach (var folder in new[] { "src/Capture", "src/Pipeline", "src/Render", "src/Sinks", "src/Quality", "src/Inference", "src/Ros2" })
            Assert.DoesNotContain(Packages(folder), p => p.StartsWith("Microsoft.AspNetCore") || p.StartsWith("Grpc"));
        foreach (var folder in new[] { "src/Capture", "src/Pipeline", "src/Render", "src/Sinks", "src/Quality", "src/Serving", "src/Ros2" })
            Assert.DoesNotContain(Packages(folder), p => p.StartsWith("Microsoft.ML.OnnxRuntime"));
    }

    [Fact]
    public void The_many_machines_layer_uses_the_core_and_the_feed_contract_only_and_only_it_carries_nats()
    {
        // The bus carries the feed's FeedFrame from the contract project, so a worker carries no web server.
        Assert.Equal(["Feed", "Pipeline"], ProjectReferences("src/Distributed").Order().ToArray());
        Assert.Equal(["Pipeline"], ProjectReferences("src/Feed").ToArray());
        foreach (var folder in new[] { "src/Distributed", "src/Feed" })
            Assert.DoesNotContain(Packages(folder), p => p.StartsWith("Microsoft.AspNetCore") || p.StartsWith("Grpc.AspNetCore"));
        Assert.Contains("Distributed", ProjectReferences("src/Cli"));
        foreach (var folder in new[] { "src/Capture", "src/Pipeline", "src/Render", "src/Sinks", "src/Quality", "src/Inference", "src/Serving",
            "src/Cli" })
            Assert.DoesNotContain(Packages(folder), p => p.StartsWith("NATS"));
    }

    [Fact]
    public void Onnx_files_are_written_by_training_through_onnxsharp_and_the_engine_reads_models_through_onnx_runtime_only()
    {
        Assert.Contains("OnnxSharp", Packages("src/Training"));
        foreach (var folder in new[] { "src/Capture", "src/Pipeline", "src/Inference", "src/Render", "src/Sinks", "src/Serving", "src/Quality",
            "src/Distributed", "src/Cli" })
            Assert.DoesNotContain("OnnxSharp", Packages(folder));
        // No hand-written protobuf codec anywhere: ONNX through OnnxSharp's generated types, the feed through Grpc.Tools.
        var handWritten = Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj") && !f.Contains("/bin") && File.ReadAllText(f).Contains("WireType", StringComparison.Ordinal)).ToList();
        Assert.Empty(handWritten);
    }

    [Fact]
    public void Every_project_logs_through_the_one_event_log()
    {
        // Common/Logging/IEventLog: no delegate or writer passed around as a second logging channel.
        var other = new System.Text.RegularExpressions.Regex(@"(Action<string>|TextWriter)\??\s+_?(log|events)\b");
        var found = Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj") && !f.Contains("/bin"))
            .SelectMany(f => File.ReadAllLines(f).Select((line, i) => (f, i, line)))
            .Where(x => other.IsMatch(x.line)).Select(x => $"{Path.GetRelativePath(Root, x.f)}:{x.i + 1}: {x.line.Trim()}").ToList();
        Assert.Empty(found);
        Assert.True(File.Exists(Path.Combine(Root, "src", "Common", "Logging", "IEventLog.cs")));
    }

    [Fact]
    public void Training_uses_capture_quality_and_inference_and_the_engine_never_uses_training()
    {
        Assert.Equal(["Capture", "Inference", "Quality"], ProjectReferences("src/Training").Order().ToArray());
        Assert.DoesNotContain("Training", ProjectReferences("src/Cli"));
        foreach (var test in new[] { "Capture", "Pipeline", "Inference", "Quality", "Render", "Sinks", "Serving", "Cli", "Distributed" })
            Assert.DoesNotContain("Training", ProjectReferences($"tests/{test}.Tests"));
    }

    [Fact]
    public void Every_project_under_src_is_in_the_layering()
    {
        var projects = Directory.GetDirectories(Path.Combine(Root, "src")).Select(Path.GetFileName).Where(d => Directory.GetFiles(Path.Combine(Root,
            "src", d!), "*.csproj").Length > 0).Order().ToArray();
        Assert.Equal(new[] { "Capture", "Cli", "Common", "Distributed", "Feed", "Inference", "Pipeline", "Quality", "Render", "Ros2", "RosFrames",
            "Serving", "Sinks", "Training" }, projects);
    }
}
