using RealtimeMtl.Inference;
using RealtimeMtl.Pipeline.Model;
using RealtimeMtl.Tests.Support;
using RealtimeMtl.Training.Onnx;

namespace RealtimeMtl.Inference.Tests;

/// <summary>Hand-built ONNX graphs that follow or break the contract in one way each.</summary>
public class ModelContractTests
{
    private static string Write(byte[] model)
    {
        var path = Path.Combine(Path.GetTempPath(), $"rtmtl-contract-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        return path;
    }

    /// <summary>A tiny valid model: labels = (B channel > 127), depth = G channel / 25.5, confidence = 1.</summary>
    public static byte[] TinyModel(OnnxType inputType = OnnxType.UInt8, bool withDepth = true, bool withMetadata = true, int w = 32, int h = 24)
    {
        var g = new OnnxGraph();
        var image = g.Input("image", inputType, "N", (long)h, (long)w, 3L);
        var f = inputType == OnnxType.Float ? image : g.Node("Cast", [image], null, OnnxAttribute.Of("to", (long)OnnxType.Float));
        var b = g.Node("Slice", [f, g.Initializer("s0", [0L], 1), g.Initializer("e1", [1L], 1), g.Initializer("ax", [3L], 1)]);
        var gch = g.Node("Slice", [f, g.Initializer("s1", [1L], 1), g.Initializer("e2", [2L], 1), g.Initializer("ax", [3L], 1)]);
        var bsq = g.Node("Squeeze", [b, g.Initializer("ax", [3L], 1)]);
        var gsq = g.Node("Squeeze", [gch, g.Initializer("ax", [3L], 1)]);
        var labels = g.Node("Cast", [g.Node("Greater", [bsq, g.Initializer("t", [127f])])], null, OnnxAttribute.Of("to", (long)OnnxType.UInt8));
        g.Identity(labels, "labels");
        g.Output("labels", OnnxType.UInt8, "N", (long)h, (long)w);
        if (withDepth)
        {
            g.Identity(g.Node("Div", [gsq, g.Initializer("d", [25.5f])]), "depth");
            g.Output("depth", OnnxType.Float, "N", (long)h, (long)w);
        }
        g.Identity(g.Node("Add", [g.Node("Mul", [gsq, g.Initializer("z", [0f])]), g.Initializer("one", [1f])]), "confidence");
        g.Output("confidence", OnnxType.Float, "N", (long)h, (long)w);
        if (withMetadata)
        {
            g.Metadata["rtmtl.architecture"] = "tiny";
            g.Metadata["rtmtl.classes"] = "dark,bright";
            g.Metadata["rtmtl.palette"] = "#000000,#ff0000";
            g.Metadata["rtmtl.input_size"] = $"{w}x{h}";
            g.Metadata["rtmtl.depth_range"] = "0,10";
        }
        return g.ToModel();
    }

    [Fact]
    public void A_contract_following_model_configures_the_engine_from_its_metadata()
    {
        var path = Write(TinyModel());
        using var model = new OnnxMtlModel(path);
        Assert.Equal(32, model.Info.InputWidth);
        Assert.Equal(24, model.Info.InputHeight);
        Assert.Equal(["dark", "bright"], model.Info.Labels.Classes);
        Assert.Equal((byte)0xff, model.Info.Labels.Palette[1].R);
        Assert.Equal(10f, model.Info.DepthMax);
        Assert.True(model.Info.HasConfidence);
        using var frame = new OpenCvSharp.Mat(48, 64, OpenCvSharp.MatType.CV_8UC3, new OpenCvSharp.Scalar(200, 51, 0));
        model.SetInput(frame);
        model.Run();
        Assert.Equal(1, model.Labels.At<byte>(3, 3));
        Assert.Equal(2f, model.Depth.At<float>(3, 3), 4);
    }

    [Fact]
    public void Wrong_input_type_is_one_clear_error()
    {
        var e = Assert.Throws<ModelContractException>(() => new OnnxMtlModel(Write(TinyModel(OnnxType.Float))));
        Assert.Contains("input 'image'", e.Message);
        Assert.Contains("uint8", e.Message);
    }

    [Fact]
    public void Missing_depth_output_is_one_clear_error()
    {
        var e = Assert.Throws<ModelContractException>(() => new OnnxMtlModel(Write(TinyModel(withDepth: false))));
        Assert.Contains("no output named 'depth'", e.Message);
    }

    [Fact]
    public void Missing_metadata_is_one_clear_error()
    {
        var e = Assert.Throws<ModelContractException>(() => new OnnxMtlModel(Write(TinyModel(withMetadata: false))));
        Assert.Contains("rtmtl.", e.Message);
        Assert.Contains("metadata", e.Message);
    }

    [Fact]
    public void A_truncated_model_file_is_one_clear_error()
    {
        var bytes = TinyModel();
        var path = Write(bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<ModelContractException>(() => new OnnxMtlModel(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a loadable ONNX model", e.Message);
    }

    [Fact]
    public void A_missing_model_file_is_one_clear_error()
    {
        var e = Assert.Throws<ModelContractException>(() => new OnnxMtlModel("/nope/model.onnx"));
        Assert.Contains("/nope/model.onnx", e.Message);
    }

    [Theory]
    [InlineData(ExecutionDevice.Cuda)]
    [InlineData(ExecutionDevice.TensorRt)]
    public void Gpu_request_on_the_cpu_build_falls_back_to_cpu_with_one_line(ExecutionDevice device)
    {
        var events = new CollectingEvents();
        using var model = new OnnxMtlModel(Write(TinyModel()), new ModelOptions { Device = device }, events);
        Assert.Equal(ExecutionDevice.Cpu, model.Device);
        var line = Assert.Single(events.Warnings);
        Assert.Empty(events.Infos);
        Assert.Contains("running on CPU", line);
        Assert.Contains(device == ExecutionDevice.Cuda ? "cuda" : "tensorrt", line);
    }

    [Fact]
    public void Auto_device_picks_cpu_silently_when_no_gpu_provider_exists()
    {
        var events = new CollectingEvents();
        using var model = new OnnxMtlModel(Write(TinyModel()), new ModelOptions { Device = ExecutionDevice.Auto }, events);
        Assert.Equal(ExecutionDevice.Cpu, model.Device);
        Assert.Empty(events.Warnings);
        Assert.Empty(events.Infos);
    }

    [Theory]
    [InlineData("Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such " +
        "file or directory", "libcublasLt.so.13 not found")]
    [InlineData("[ErrorCode:Fail] libnvinfer.so.10: cannot open shared object file: No such file or directory\nstack", "libnvinfer.so.10 not found")]
    [InlineData("Failed to load library libonnxruntime_providers_cuda.so with error: libonnxruntime_providers_cuda.so: cannot open shared object " +
        "file", "libonnxruntime_providers_cuda.so not found")]
    [InlineData("CUDA failure 100: no CUDA-capable device is detected\n more", "CUDA failure 100: no CUDA-capable device is detected")]
    public void Provider_failures_are_reduced_to_the_missing_library(string message, string expected)
        => Assert.Equal(expected, ExecutionProviders.Cause(message));

    [Fact]
    public void Warm_up_runs_until_two_runs_agree_and_leaves_the_model_usable()
    {
        using var model = new OnnxMtlModel(Write(TinyModel()));
        var warm = model.WarmUp();
        Assert.InRange(warm.Runs, 2, 20);
        Assert.True(warm.TotalMs >= warm.LastRunMs && warm.LastRunMs > 0);
        Assert.Equal(1, model.WarmUp(minRuns: 1, maxRuns: 1).Runs);
        Assert.Equal(GpuDataPath.Plain, model.GpuPath);
    }

    [Fact]
    public void Gpu_path_names_parse_and_unknown_ones_are_refused()
    {
        Assert.Equal(GpuDataPath.CudaGraph, GpuOptions.Parse("cudagraph"));
        Assert.Equal(GpuDataPath.IoBinding, GpuOptions.Parse("IOBinding"));
        Assert.Throws<ArgumentException>(() => GpuOptions.Parse("warp"));
    }

    [Fact]
    public void Model_instances_share_one_session_but_runs_at_once_keep_their_own_inputs_and_outputs()
    {
        using var model = new OnnxMtlModel(Write(TinyModel()), new ModelOptions { MaxBatch = 3, Instances = 2, Threads = 2 });
        Assert.Equal(2, model.Instances);
        Assert.Same(model, model.Instance(0));
        var wrong = 0;
        // Two threads, one per instance, each running batches of 3 whose green values (depth = G / 25.5) are its own.
        var threads = Enumerable.Range(0, 2).Select(k => new Thread(() =>
        {
            var m = model.Instance(k);
            for (var run = 0; run < 200; run++)
            {
                for (var i = 0; i < 3; i++)
                {
                    using var frame = new OpenCvSharp.Mat(24, 32, OpenCvSharp.MatType.CV_8UC3, new OpenCvSharp.Scalar(0, 100 * k + 3 * (run % 30) + i,
                        0));
                    m.SetInput(i, frame);
                }
                m.RunBatch(3);
                for (var i = 0; i < 3; i++)
                    if (Math.Abs(m.Output(i).Depth.At<float>(5, 7) - (100 * k + 3 * (run % 30) + i) / 25.5f) > 1e-3) Interlocked.Increment(ref wrong);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(0, wrong);
        Assert.Equal(1, OnnxMtlModel.ThreadsPerInstance(2, 2));
        Assert.Equal(4, OnnxMtlModel.ThreadsPerInstance(8, 2));
        Assert.Equal(1, OnnxMtlModel.ThreadsPerInstance(1, 4));
    }

    [Fact]
    public void A_gpu_request_that_falls_back_to_the_cpu_keeps_its_model_instances()
    {
        var events = new CollectingEvents();
        using var model = new OnnxMtlModel(Write(TinyModel()), new ModelOptions
        {
            Device = ExecutionDevice.Cuda, Instances = 2,
            AvailableProviders = ["CPUExecutionProvider"]
        }, events);
        Assert.Equal(ExecutionDevice.Cpu, model.Device);
        Assert.Equal(2, model.Instances);
    }
}
