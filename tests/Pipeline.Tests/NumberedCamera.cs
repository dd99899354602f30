using System.Runtime.CompilerServices;
using OpenCvSharp;
using RealtimeMtl.Pipeline.Frames;
using RealtimeMtl.Pipeline.Sources;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>A file camera whose frame i is filled with blue = 10 + i, so its depth tells which frame it came from.</summary>
internal sealed class NumberedCamera(int frames) : IFrameSource
{
    public string Description => "numbered";
    public bool IsLive => false;
    public double? NominalFps => 30;
    public long? FrameCount => frames;

    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < frames; i++)
        {
            await Task.Yield();
            yield return new Frame(i, System.Diagnostics.Stopwatch.GetTimestamp(), new Mat(6, 8, MatType.CV_8UC3, new Scalar(10 + i, 0, 0)));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
