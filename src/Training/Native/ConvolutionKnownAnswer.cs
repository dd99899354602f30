using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RealtimeMtl.Training.Native;

/// <summary>One convolution shape of the known-answer check and how far LibTorch strayed from the plain reference.</summary>
public sealed record ConvolutionCase(string Name, int Batch, int InChannels, int OutChannels, int Height, int Width, int Kernel, int Stride,
    int Dilation)
{
    public int Padding => Dilation * (Kernel - 1) / 2;
    public int OutHeight => (Height + 2 * Padding - Dilation * (Kernel - 1) - 1) / Stride + 1;
    public int OutWidth => (Width + 2 * Padding - Dilation * (Kernel - 1) - 1) / Stride + 1;
}

public sealed record ConvolutionCaseResult(string Name, double MaxAbsDiff, double Tolerance, bool Ok);

/// <summary>
/// A small known-answer check of LibTorch's CPU convolutions (oneDNN): a plain 3x3, dilated 3x3 (rates 2 and 4, as
/// in a backbone run at output stride 8), 1x1 (the shape whose blocking heuristic divided by a zero cache size) and
/// a strided 3x3, each against a direct loop in C#. It runs in a child process (<c>rtmtl-train onednn-check</c>)
/// because a broken oneDNN can kill the process instead of answering.
/// </summary>
public static class ConvolutionKnownAnswer
{
    public static readonly IReadOnlyList<ConvolutionCase> Cases =
    [
        new("3x3", 2, 16, 32, 24, 32, 3, 1, 1),
        new("3x3 dilated 2", 1, 64, 64, 20, 24, 3, 1, 2),
        new("3x3 dilated 4 (output stride 8)", 1, 256, 64, 16, 20, 3, 1, 4),
        new("1x1", 2, 256, 256, 15, 20, 1, 1, 1),
        new("3x3 stride 2", 1, 32, 64, 24, 32, 3, 2, 1),
    ];

    /// <summary>Runs every case in this process; a broken library may crash it (hence the child process).</summary>
    public static IReadOnlyList<ConvolutionCaseResult> Run()
    {
        var results = new List<ConvolutionCaseResult>();
        var rng = new Random(20261201);
        foreach (var c in Cases)
        {
            var x = Random(rng, c.Batch * c.InChannels * c.Height * c.Width);
            var w = Random(rng, c.OutChannels * c.InChannels * c.Kernel * c.Kernel);
            var expected = Reference(c, x, w);
            float[] actual;
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                // The functional form: no module, so no draw from LibTorch's global generator (tests seed it per model).
                using var weight = Models.TensorFrom.Array(w, c.OutChannels, c.InChannels, c.Kernel, c.Kernel);
                using var input = Models.TensorFrom.Array(x, c.Batch, c.InChannels, c.Height, c.Width);
                using var y = functional.conv2d(input, weight, null, [c.Stride, c.Stride], [c.Padding, c.Padding], [c.Dilation,
                    c.Dilation]).contiguous();
                actual = y.data<float>().ToArray();
            }
            var maxRef = expected.Max(MathF.Abs);
            var diff = 0.0;
            if (actual.Length != expected.Length) diff = double.PositiveInfinity;
            else for (var i = 0; i < actual.Length; i++) diff = Math.Max(diff, Math.Abs(actual[i] - expected[i]));
            // Float accumulation over up to 2,304 products: 1e-4 of the output's scale is generous for a correct
            // kernel and orders of magnitude below what a wrong blocking produces.
            var tolerance = 1e-4 * Math.Max(1.0, maxRef);
            results.Add(new ConvolutionCaseResult(c.Name, diff, tolerance, diff <= tolerance));
        }
        return results;
    }

    /// <summary>Direct convolution with zero padding (NCHW input, OIHW weights), accumulated in double.</summary>
    public static float[] Reference(ConvolutionCase c, float[] x, float[] w)
    {
        var (oh, ow, k) = (c.OutHeight, c.OutWidth, c.Kernel);
        var y = new float[c.Batch * c.OutChannels * oh * ow];
        Parallel.For(0, c.Batch * c.OutChannels, bo =>
        {
            var (b, o) = (bo / c.OutChannels, bo % c.OutChannels);
            for (var yy = 0; yy < oh; yy++)
                for (var xx = 0; xx < ow; xx++)
                {
                    double sum = 0;
                    for (var i = 0; i < c.InChannels; i++)
                        for (var ky = 0; ky < k; ky++)
                        {
                            var iy = yy * c.Stride - c.Padding + ky * c.Dilation;
                            if (iy < 0 || iy >= c.Height) continue;
                            for (var kx = 0; kx < k; kx++)
                            {
                                var ix = xx * c.Stride - c.Padding + kx * c.Dilation;
                                if (ix < 0 || ix >= c.Width) continue;
                                sum += x[((b * c.InChannels + i) * c.Height + iy) * c.Width + ix] * (double)w[((o * c.InChannels + i) * k + ky) * k
                                    + kx];
                            }
                        }
                    y[(bo * oh + yy) * ow + xx] = (float)sum;
                }
        });
        return y;
    }

    /// <summary>The child's entry: runs the check and prints one JSON object; exit 0 when every case agrees, 1 if not.</summary>
    public static int RunChild(TextWriter output)
    {
        var results = Run();
        output.WriteLine(JsonSerializer.Serialize(new
        {
            ok = results.All(r => r.Ok), isa = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA"),
            cases = results
        },
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        return results.All(r => r.Ok) ? 0 : 1;
    }

    public static string Describe(ConvolutionCaseResult r) =>
        $"{r.Name}: max |difference| {r.MaxAbsDiff.ToString("G3", CultureInfo.InvariantCulture)} (tolerance " +
            $"{r.Tolerance.ToString("G3", CultureInfo.InvariantCulture)})";

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (var i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
