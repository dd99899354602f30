using OpenCvSharp;
using OpenCvSharp.Dnn;

namespace RealtimeMtl.Cli.Bench;

/// <summary>
/// The same ONNX file run by OpenCV's DNN module (CPU backend), on the same prepared input as the ONNX Runtime
/// session: a peer for rtmtl bench. Also reports how many label pixels agree with ONNX Runtime, which shows that
/// both run the same network.
/// </summary>
public sealed class OpenCvDnnPeer : IDisposable
{
    private static readonly string[] OutputNames = ["labels", "depth"];
    private readonly Net _net;
    private readonly Mat _blob;
    private readonly Mat[] _outputs = [new(), new()];

    public OpenCvDnnPeer(string modelPath, Mat inputBgr, int threads)
    {
        _net = CvDnn.ReadNetFromOnnx(modelPath) ?? throw new InvalidOperationException($"OpenCV DNN could not read '{modelPath}'");
        _net.SetPreferableBackend(Backend.OPENCV);
        _net.SetPreferableTarget(Target.CPU);
        if (threads > 0) Cv2.SetNumThreads(threads);
        // The contract's input is uint8 NHWC: a 4-d 8-bit blob over the same pixels.
        _blob = Mat.FromPixelData(new[] { 1, inputBgr.Rows, inputBgr.Cols, 3 }, MatType.CV_8UC1, inputBgr.Data);
        _net.SetInput(_blob, "image");
    }

    public void Run() => _net.Forward(_outputs, OutputNames);

    /// <summary>Share of label pixels equal to <paramref name="reference"/> (uint8, model size), after <see cref="Run"/>.</summary>
    public unsafe double LabelAgreement(Mat reference)
    {
        var labels = _outputs[0];
        var n = reference.Rows * reference.Cols;
        if (labels.Total() != n) return double.NaN;
        using var asBytes = new Mat();
        labels.Reshape(1, 1).ConvertTo(asBytes, MatType.CV_8UC1); // OpenCV DNN returns the uint8 output as float
        var a = (byte*)asBytes.Data; var b = (byte*)reference.Data;
        var same = 0;
        for (var i = 0; i < n; i++) if (a[i] == b[i]) same++;
        return (double)same / n;
    }

    public void Dispose()
    {
        _net.Dispose();
        _blob.Dispose();
        foreach (var o in _outputs) o.Dispose();
    }
}
