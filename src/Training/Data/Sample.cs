namespace RealtimeMtl.Training.Data;

/// <summary>One RGB-D training sample: BGR bytes (HWC), depth in metres (0 = invalid), labels (255 = ignore).</summary>
public sealed record Sample(byte[] Image, float[] Depth, byte[] Labels, int Width, int Height);

/// <summary>A split of a data set. Implementations read lazily and may cache.</summary>
public interface ISegDepthDataset
{
    string Name { get; }
    int Count { get; }
    int Classes { get; }
    Sample Get(int index);
}
