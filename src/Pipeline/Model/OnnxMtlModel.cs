using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;

namespace RealtimeMtl.Pipeline.Model;

/// <summary>
/// A contract-following ONNX model in ONNX Runtime. Input and output buffers are allocated once, pinned, and wrapped
/// both as OrtValues (for the session) and as Mats (for OpenCV), so a frame costs no allocation: the frame is
/// resized straight into the input tensor and the outputs are read in place.
/// </summary>
public sealed class OnnxMtlModel : IDisposable
{
    private static readonly string[] InputNames = ["image"];
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly byte[] _input;
    private readonly byte[] _labels;
    private readonly float[] _depth;
    private readonly float[] _confidence;
    private readonly GCHandle[] _pins;
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;
    private readonly string[] _outputNames;

    public OnnxMtlModel(string path, ModelOptions? options = null, Action<string>? log = null)
    {
        options ??= new ModelOptions();
        if (!File.Exists(path))
            throw new ModelContractException($"model file '{path}' does not exist; pass --model with an exported .onnx (the shipped one is models/mtl_ssw_light.onnx).");
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.Threads,
        };
        // Let ONNX Runtime's threads sleep between frames so OpenCV and the other stages get the cores.
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var (used, note) = ExecutionProviders.Configure(so, options.Device, options.TensorRtCache, options.AvailableProviders);
        if (note is not null) log?.Invoke(note);
        Device = used;
        try { _session = new InferenceSession(path, so); }
        catch (OnnxRuntimeException e)
        {
            throw new ModelContractException($"model file '{path}' is not a loadable ONNX model (truncated, corrupt or not ONNX): {e.Message.Split('\n')[0]}", e);
        }
        try
        {
            var (w, h) = ModelContract.Validate(path, _session);
            var md = _session.ModelMetadata.CustomMetadataMap;
            Info = ModelInfo.FromMetadata(path, md, _session.OutputMetadata.ContainsKey("confidence"), w, h);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
        var pixels = Info.InputWidth * Info.InputHeight;
        _input = new byte[pixels * 3];
        _labels = new byte[pixels];
        _depth = new float[pixels];
        _confidence = new float[pixels];
        _pins = [GCHandle.Alloc(_input, GCHandleType.Pinned), GCHandle.Alloc(_labels, GCHandleType.Pinned), GCHandle.Alloc(_depth, GCHandleType.Pinned), GCHandle.Alloc(_confidence, GCHandleType.Pinned)];
        long[] shape = [1, Info.InputHeight, Info.InputWidth];
        _inputValues = [OrtValue.CreateTensorValueFromMemory(_input, [1, Info.InputHeight, Info.InputWidth, 3])];
        var outputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(_labels, shape), OrtValue.CreateTensorValueFromMemory(_depth, shape) };
        var names = new List<string> { "labels", "depth" };
        if (Info.HasConfidence)
        {
            outputs.Add(OrtValue.CreateTensorValueFromMemory(_confidence, shape));
            names.Add("confidence");
        }
        _outputValues = outputs.ToArray();
        _outputNames = names.ToArray();
        InputMat = Mat.FromPixelData(Info.InputHeight, Info.InputWidth, MatType.CV_8UC3, _pins[0].AddrOfPinnedObject());
        Labels = Mat.FromPixelData(Info.InputHeight, Info.InputWidth, MatType.CV_8UC1, _pins[1].AddrOfPinnedObject());
        Depth = Mat.FromPixelData(Info.InputHeight, Info.InputWidth, MatType.CV_32FC1, _pins[2].AddrOfPinnedObject());
        Confidence = Info.HasConfidence ? Mat.FromPixelData(Info.InputHeight, Info.InputWidth, MatType.CV_32FC1, _pins[3].AddrOfPinnedObject()) : null;
    }

    public ModelInfo Info { get; }
    public ExecutionDevice Device { get; }

    /// <summary>The input tensor seen as a BGR Mat at model size: write the frame here (resize into it).</summary>
    public Mat InputMat { get; }

    /// <summary>Outputs at model resolution, valid until the next <see cref="Run"/>.</summary>
    public Mat Labels { get; }
    public Mat Depth { get; }
    public Mat? Confidence { get; }

    /// <summary>Resizes the frame into the input tensor (area filter when shrinking).</summary>
    public void SetInput(Mat bgr)
    {
        if (bgr.Width == Info.InputWidth && bgr.Height == Info.InputHeight) bgr.CopyTo(InputMat);
        else Cv2.Resize(bgr, InputMat, new Size(Info.InputWidth, Info.InputHeight), 0, 0,
            bgr.Width > Info.InputWidth ? InterpolationFlags.Area : InterpolationFlags.Linear);
    }

    /// <summary>Runs the network on the current input; outputs land in <see cref="Labels"/>, <see cref="Depth"/>, <see cref="Confidence"/>.</summary>
    public void Run() => _session.Run(_runOptions, InputNames, _inputValues, _outputNames, _outputValues);

    public void Dispose()
    {
        InputMat.Dispose(); Labels.Dispose(); Depth.Dispose(); Confidence?.Dispose();
        foreach (var v in _inputValues) v.Dispose();
        foreach (var v in _outputValues) v.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
        foreach (var p in _pins) p.Free();
    }
}
