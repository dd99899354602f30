using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;
using RealtimeMtl.Common.Logging;

namespace RealtimeMtl.Inference;

/// <summary>
/// A contract-following ONNX model in ONNX Runtime. Input and output buffers are allocated once, pinned, and wrapped
/// both as OrtValues (for the session) and as Mats (for OpenCV), so a frame costs no allocation: the frame is
/// resized straight into the input tensor and the outputs are read in place.
/// With <see cref="ModelOptions.Instances"/> above one (CPU), several runs may be in flight at once, as Triton's
/// instance groups do: one session (one copy of the weights), each instance with its own buffers and its share of the
/// threads (<see cref="Instance"/>).
/// </summary>
public sealed class OnnxMtlModel : IMtlModel, IDisposable
{
    private static readonly string[] InputNames = ["image"];
    private readonly InferenceSession _session;
    private readonly string[] _outputNames;
    /// <summary>Each instance's own buffers; instance 0's are this model's.</summary>
    private readonly Slot[] _slots = [];
    private readonly IMtlModel[] _views = [];
    private DeviceBinding? _device;
    private bool _disposed;

    public OnnxMtlModel(string path, ModelOptions? options = null, IEventLog? log = null)
    {
        options ??= new ModelOptions();
        if (Directory.Exists(path))
            throw new ModelContractException($"--model '{path}' is a folder; pass the .onnx file itself (e.g. " +
                $"{System.IO.Path.Combine(path, "model.onnx")}).");
        if (!File.Exists(path))
            throw new ModelContractException($"model file '{path}' does not exist; pass --model with an exported .onnx (the shipped one is " +
                $"models/mtl_ssw_light.onnx).");
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.Instances > 1 && options.Device == ExecutionDevice.Cpu ? ThreadsPerInstance(options.Threads,
                options.Instances) : options.Threads,
        };
        // Let ONNX Runtime's threads sleep between frames so OpenCV and the other stages get the cores.
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var gpuPath = options.Gpu.Path == GpuDataPath.Auto ? GpuOptions.DefaultPath : options.Gpu.Path;
        var (used, note) = ExecutionProviders.Configure(so, options.Device, options.TensorRtCache, options.AvailableProviders,
            options.Gpu with { Path = gpuPath });
        if (note is not null) log?.Warning(note);
        Device = used;
        GpuPath = used switch
        {
            ExecutionDevice.Cpu => GpuDataPath.Plain,
            ExecutionDevice.TensorRt when gpuPath == GpuDataPath.CudaGraph => GpuDataPath.IoBinding,
            _ => gpuPath,
        };
        try { _session = new InferenceSession(path, so); }
        catch (OnnxRuntimeException e)
        {
            throw new ModelContractException($"model file '{path}' is not a loadable ONNX model (truncated, corrupt or not ONNX): " +
                $"{e.Message.Split('\n')[0]}", e);
        }
        try
        {
            var (w, h) = ModelContract.Validate(path, _session);
            var md = _session.ModelMetadata.CustomMetadataMap;
            Info = ModelMetadata.Read(path, md, _session.OutputMetadata.ContainsKey("confidence"), w, h);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
        // A batch larger than one needs a dynamic batch dimension, and a CUDA graph replays one fixed shape.
        var maxBatch = Math.Max(1, options.MaxBatch);
        if (maxBatch > 1 && _session.InputMetadata["image"].Dimensions[0] > 0)
        {
            log?.Warning($"model '{path}' has a fixed batch of {_session.InputMetadata["image"].Dimensions[0]}: one frame per run (re-export it " +
                $"with ./rtmtl export for batches)");
            maxBatch = 1;
        }
        if (maxBatch > 1 && GpuPath == GpuDataPath.CudaGraph)
        {
            log?.Warning($"--gpu-path cudagraph replays one shape: one frame per run (--gpu-path iobinding batches {maxBatch} frames)");
            maxBatch = 1;
        }
        MaxBatch = maxBatch;
        var names = new List<string> { "labels", "depth" };
        if (Info.HasConfidence) names.Add("confidence");
        _outputNames = names.ToArray();
        // Several runs at once on the CPU only: a GPU provider runs one stream here.
        var instances = Device == ExecutionDevice.Cpu ? Math.Max(1, options.Instances) : 1;
        if (options.Instances > 1 && instances == 1) log?.Warning($"--model-instances {options.Instances} applies to the CPU; on {DeviceName} one " +
            $"run at a time");
        _slots = Enumerable.Range(0, instances).Select(_ => new Slot(Info, maxBatch)).ToArray();
        _views = Enumerable.Range(0, instances).Select(k => k == 0 ? (IMtlModel)this : new InstanceView(this, k)).ToArray();
        long[] shape = [1, Info.InputHeight, Info.InputWidth];
        if (GpuPath is GpuDataPath.IoBinding or GpuDataPath.CudaGraph)
        {
            try { _device = new DeviceBinding(_session, Info, shape, _outputNames); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException or OnnxRuntimeException)
            {
                // Device buffers need libcudart.so.13; without them the CUDA provider still runs through plain Run.
                if (GpuPath == GpuDataPath.CudaGraph)
                {
                    Dispose();
                    throw new ModelContractException($"--gpu-path cudagraph needs device buffers, which could not be made " +
                        $"({e.Message.Split('\n')[0]}); use --gpu-path plain.", e);
                }
                log?.Warning($"IOBinding device buffers unavailable ({e.Message.Split('\n')[0]}); using plain CUDA runs.");
                GpuPath = GpuDataPath.Plain;
            }
        }
    }

    /// <summary>ONNX Runtime intra-op threads for each of <paramref name="instances"/> instances: the threads asked for (0: every core) shared out,
    /// at least one each.</summary>
    public static int ThreadsPerInstance(int threads, int instances) =>
        Math.Max(1, (threads > 0 ? threads : Environment.ProcessorCount) / Math.Max(1, instances));

    /// <summary>How many runs may be in flight at once (<see cref="ModelOptions.Instances"/> on the CPU, else 1).</summary>
    public int Instances => _slots.Length;

    /// <summary>Instance <paramref name="k"/>: the same session with its own buffers; runs on different instances may overlap.</summary>
    public IMtlModel Instance(int k) => _views[k];

    /// <summary>How frames reach the GPU in this session (Plain on CPU).</summary>
    public GpuDataPath GpuPath { get; private set; }

    public ModelInfo Info { get; }
    public ExecutionDevice Device { get; }

    /// <summary>The largest batch one <see cref="RunBatch"/> takes (<see cref="ModelOptions.MaxBatch"/>, or 1 where the model or the GPU path cannot
    /// batch).</summary>
    public int MaxBatch { get; }
    public string DeviceName => Device.ToString().ToLowerInvariant();

    /// <summary>The input tensor (item 0) seen as a BGR Mat at model size: write the frame here (resize into it).</summary>
    public Mat InputMat => _slots[0].InputMats[0];

    /// <summary>Outputs (item 0) at model resolution, valid until the next <see cref="Run"/>.</summary>
    public Mat Labels => _slots[0].Outputs[0].Labels;
    public Mat Depth => _slots[0].Outputs[0].Depth;
    public Mat? Confidence => _slots[0].Outputs[0].Confidence;

    /// <summary>Resizes the frame into the input tensor (area filter when shrinking).</summary>
    public void SetInput(Mat bgr) => SetInput(0, bgr);

    /// <summary>Resizes the frame into item <paramref name="index"/> of the input tensor.</summary>
    public void SetInput(int index, Mat bgr) => SetInput(_slots[0], index, bgr);

    private void SetInput(Slot slot, int index, Mat bgr)
    {
        var input = slot.InputMats[index];
        if (bgr.Width == Info.InputWidth && bgr.Height == Info.InputHeight) bgr.CopyTo(input);
        else RealtimeMtl.Pipeline.Imaging.CvNative.Resize(bgr, input, new Size(Info.InputWidth, Info.InputHeight),
            bgr.Width > Info.InputWidth ? InterpolationFlags.Area : InterpolationFlags.Linear);
    }

    public ModelOutputs Output(int index) => _slots[0].Outputs[index];

    /// <summary>Runs the network on the current input; outputs land in <see cref="Labels"/>, <see cref="Depth"/>, <see cref="Confidence"/>.</summary>
    public void Run() => RunBatch(1);

    /// <summary>Runs the network on items 0..count-1 in one run; their outputs are <see cref="Output"/>(0..count-1).</summary>
    public void RunBatch(int count) => RunBatch(_slots[0], count);

    private void RunBatch(Slot slot, int count)
    {
        if (count < 1 || count > MaxBatch) throw new ArgumentOutOfRangeException(nameof(count), $"batch {count}: this model takes 1 to {MaxBatch}");
        if (_device is null || count > 1)
        {
            var batch = slot.Batches[count - 1] ??= new HostBatch(this, slot, count);
            // CPU: the host buffers are bound once per batch size (nothing allocated per run); a GPU provider copies them.
            if (Device == ExecutionDevice.Cpu) _session.RunWithBinding(slot.RunOptions, batch.Binding(_session));
            else _session.Run(slot.RunOptions, InputNames, batch.Inputs, _outputNames, batch.Outputs);
            return;
        }
        // Device path: one copy in, the bound run (a CUDA graph replay when enabled), one copy back per output.
        // ONNX Runtime synchronises its CUDA stream at the end of the run, so the copies back see finished outputs.
        _device.Input.CopyFromHost(slot.Pins[0].AddrOfPinnedObject());
        _session.RunWithBinding(slot.RunOptions, _device.Binding);
        _device.Outputs[0].CopyToHost(slot.Pins[1].AddrOfPinnedObject());
        _device.Outputs[1].CopyToHost(slot.Pins[2].AddrOfPinnedObject());
        if (_device.Outputs.Length > 2) _device.Outputs[2].CopyToHost(slot.Pins[3].AddrOfPinnedObject());
    }

    /// <summary>
    /// Runs the model on a blank input until two consecutive runs agree within 20 % (at least 2 runs, at most 20):
    /// session initialisation, cuDNN's algorithm search, a CUDA graph capture or a TensorRT engine build all happen
    /// here, before any frame is timed.
    /// </summary>
    public WarmUpResult WarmUp(int minRuns = 2, int maxRuns = 20)
    {
        InputMat.SetTo(Scalar.All(0));
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        double previous = double.NaN, last = double.NaN;
        var runs = 0;
        while (runs < maxRuns)
        {
            var t = System.Diagnostics.Stopwatch.GetTimestamp();
            Run();
            last = System.Diagnostics.Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            runs++;
            if (runs >= minRuns && Math.Abs(last - previous) <= 0.2 * Math.Max(last, previous)) break;
            previous = last;
        }
        return new WarmUpResult(runs, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds, last);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _device?.Dispose();
        foreach (var slot in _slots) slot.Dispose();
        _session?.Dispose();
    }

    /// <summary>One instance's pinned input and output buffers (up to the largest batch), their Mats and bindings.</summary>
    private sealed class Slot : IDisposable
    {
        public Slot(ModelInfo info, int maxBatch)
        {
            int h = info.InputHeight, w = info.InputWidth, pixels = h * w;
            Input = new byte[maxBatch * pixels * 3];
            Labels = new byte[maxBatch * pixels];
            Depth = new float[maxBatch * pixels];
            Confidence = new float[maxBatch * pixels];
            Pins = [GCHandle.Alloc(Input, GCHandleType.Pinned), GCHandle.Alloc(Labels, GCHandleType.Pinned), GCHandle.Alloc(Depth,
                GCHandleType.Pinned), GCHandle.Alloc(Confidence, GCHandleType.Pinned)];
            Batches = new HostBatch?[maxBatch];
            InputMats = new Mat[maxBatch];
            Outputs = new ModelOutputs[maxBatch];
            for (var i = 0; i < maxBatch; i++)
            {
                InputMats[i] = Mat.FromPixelData(h, w, MatType.CV_8UC3, Pins[0].AddrOfPinnedObject() + i * pixels * 3);
                Outputs[i] = new ModelOutputs(
                    Mat.FromPixelData(h, w, MatType.CV_8UC1, Pins[1].AddrOfPinnedObject() + i * pixels),
                    Mat.FromPixelData(h, w, MatType.CV_32FC1, Pins[2].AddrOfPinnedObject() + i * pixels * 4),
                    info.HasConfidence ? Mat.FromPixelData(h, w, MatType.CV_32FC1, Pins[3].AddrOfPinnedObject() + i * pixels * 4) : null);
            }
        }

        public byte[] Input { get; }
        public byte[] Labels { get; }
        public float[] Depth { get; }
        public float[] Confidence { get; }
        public GCHandle[] Pins { get; }
        /// <summary>Per batch size n (index n - 1): OrtValues of shape [n, ...] over the same pinned buffers, made on first use.</summary>
        public HostBatch?[] Batches { get; }
        public Mat[] InputMats { get; }
        public ModelOutputs[] Outputs { get; }
        public RunOptions RunOptions { get; } = new();

        public void Dispose()
        {
            foreach (var b in Batches) b?.Dispose();
            foreach (var m in InputMats) m?.Dispose();
            foreach (var o in Outputs) { o.Labels?.Dispose(); o.Depth?.Dispose(); o.Confidence?.Dispose(); }
            RunOptions.Dispose();
            foreach (var p in Pins) p.Free();
        }
    }

    /// <summary>Instance k of the model as the engine sees it: the shared session on that instance's buffers.</summary>
    private sealed class InstanceView(OnnxMtlModel model, int k) : IMtlModel
    {
        private Slot Slot => model._slots[k];
        public ModelInfo Info => model.Info;
        public string DeviceName => model.DeviceName;
        public int MaxBatch => model.MaxBatch;
        public int Instances => model.Instances;
        public IMtlModel Instance(int i) => model.Instance(i);
        public Mat Labels => Slot.Outputs[0].Labels;
        public Mat Depth => Slot.Outputs[0].Depth;
        public Mat? Confidence => Slot.Outputs[0].Confidence;
        public void SetInput(Mat bgr) => model.SetInput(Slot, 0, bgr);
        public void SetInput(int index, Mat bgr) => model.SetInput(Slot, index, bgr);
        public void Run() => model.RunBatch(Slot, 1);
        public void RunBatch(int count) => model.RunBatch(Slot, count);
        public ModelOutputs Output(int index) => Slot.Outputs[index];
    }

    /// <summary>Host tensors of one batch size over the model's pinned buffers (their first n items), and their binding.</summary>
    private sealed class HostBatch : IDisposable
    {
        private OrtIoBinding? _binding;

        public HostBatch(OnnxMtlModel m, Slot slot, int n)
        {
            int h = m.Info.InputHeight, w = m.Info.InputWidth, pixels = h * w;
            long[] shape = [n, h, w];
            Inputs = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, slot.Input.AsMemory(0, n * pixels * 3), [n, h, w, 3])];
            var outputs = new List<OrtValue>
            {
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, slot.Labels.AsMemory(0, n * pixels), shape),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, slot.Depth.AsMemory(0, n * pixels), shape),
            };
            if (m.Info.HasConfidence) outputs.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, slot.Confidence.AsMemory(0,
                n * pixels), shape));
            Outputs = outputs.ToArray();
            _names = m._outputNames;
        }

        private readonly string[] _names;
        public OrtValue[] Inputs { get; }
        public OrtValue[] Outputs { get; }

        public OrtIoBinding Binding(InferenceSession session)
        {
            if (_binding is not null) return _binding;
            _binding = session.CreateIoBinding();
            _binding.BindInput(InputNames[0], Inputs[0]);
            for (var i = 0; i < _names.Length; i++) _binding.BindOutput(_names[i], Outputs[i]);
            return _binding;
        }

        public void Dispose()
        {
            _binding?.Dispose();
            foreach (var v in Inputs) v.Dispose();
            foreach (var v in Outputs) v.Dispose();
        }
    }

    /// <summary>Device-side input and outputs bound once to an IOBinding (fixed addresses, as CUDA graphs need).</summary>
    private sealed class DeviceBinding : IDisposable
    {
        public DeviceBinding(InferenceSession session, ModelInfo info, long[] shape, string[] outputNames)
        {
            var pixels = (long)info.InputWidth * info.InputHeight;
            using var cuda = new OrtMemoryInfo("Cuda", OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default);
            try
            {
                Input = new CudaDeviceBuffer(pixels * 3);
                Outputs = outputNames.Select(n => new CudaDeviceBuffer(n == "labels" ? pixels : pixels * 4)).ToArray();
                _values.Add(OrtValue.CreateTensorValueWithData(cuda, TensorElementType.UInt8, [1, info.InputHeight, info.InputWidth, 3],
                    Input.Pointer, Input.Bytes));
                Binding = session.CreateIoBinding();
                Binding.BindInput("image", _values[0]);
                for (var i = 0; i < outputNames.Length; i++)
                {
                    var type = outputNames[i] == "labels" ? TensorElementType.UInt8 : TensorElementType.Float;
                    _values.Add(OrtValue.CreateTensorValueWithData(cuda, type, shape, Outputs[i].Pointer, Outputs[i].Bytes));
                    Binding.BindOutput(outputNames[i], _values[^1]);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        private readonly List<OrtValue> _values = [];
        public CudaDeviceBuffer Input { get; } = null!;
        public CudaDeviceBuffer[] Outputs { get; } = [];
        public OrtIoBinding Binding { get; } = null!;

        public void Dispose()
        {
            Binding?.Dispose();
            foreach (var v in _values) v.Dispose();
            Input?.Dispose();
            foreach (var o in Outputs ?? []) o.Dispose();
        }
    }
}
