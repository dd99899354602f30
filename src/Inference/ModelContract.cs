using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace RealtimeMtl.Inference;

/// <summary>
/// The engine's model contract: input <c>image</c> uint8 [N,H,W,3] (H, W fixed); outputs <c>labels</c> uint8
/// [N,H,W], <c>depth</c> float32 [N,H,W], optional <c>confidence</c> float32 [N,H,W]; rtmtl.* metadata.
/// </summary>
public static class ModelContract
{
    public static (int Width, int Height) Validate(string path, InferenceSession session)
    {
        if (!session.InputMetadata.TryGetValue("image", out var input))
            throw new ModelContractException($"model '{path}' has no input named 'image' (it has: " +
                $"{string.Join(", ", session.InputMetadata.Keys)}); the engine feeds uint8 BGR frames [N,H,W,3] to 'image'.");
        if (input.ElementDataType != TensorElementType.UInt8)
            throw new ModelContractException($"model '{path}': input 'image' is {input.ElementDataType}, but the contract wants uint8 BGR " +
                $"[N,H,W,3] with normalisation inside the graph.");
        var d = input.Dimensions;
        if (d.Length != 4 || d[3] != 3 || d[1] <= 0 || d[2] <= 0)
            throw new ModelContractException($"model '{path}': input 'image' has shape [{string.Join(",", d)}], but the contract wants [N,H,W,3] " +
                $"with fixed H and W.");
        int h = d[1], w = d[2];
        Require(path, session, "labels", TensorElementType.UInt8, h, w, optional: false);
        Require(path, session, "depth", TensorElementType.Float, h, w, optional: false);
        Require(path, session, "confidence", TensorElementType.Float, h, w, optional: true);
        return (w, h);
    }

    private static void Require(string path, InferenceSession s, string name, TensorElementType type, int h, int w, bool optional)
    {
        if (!s.OutputMetadata.TryGetValue(name, out var m))
        {
            if (optional) return;
            throw new ModelContractException($"model '{path}' has no output named '{name}' (it has: {string.Join(", ", s.OutputMetadata.Keys)}); " +
                $"the contract wants labels (uint8) and depth (float32 metres).");
        }
        if (m.ElementDataType != type)
            throw new ModelContractException($"model '{path}': output '{name}' is {m.ElementDataType}, the contract wants {type}.");
        var d = m.Dimensions;
        if (d.Length != 3 || (d[1] > 0 && d[1] != h) || (d[2] > 0 && d[2] != w))
            throw new ModelContractException($"model '{path}': output '{name}' has shape [{string.Join(",", d)}], the contract wants [N,{h},{w}].");
    }
}
