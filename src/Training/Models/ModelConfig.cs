namespace RealtimeMtl.Training.Models;

public enum BackboneKind { ResNet18, ResNet34, ResNet50, ResNet18Slim }
public enum HeadKind { Aspp, PyramidPooling, Fcn }
public enum TaskSet { Both, SegmentationOnly, DepthOnly }

/// <summary>Where the selective-weights module sits: off, on the backbone features (MTL_SW+PP) or on the head features (MTL_SSW).</summary>
public enum SwPlacement { None, Backbone, Head }

/// <summary>The paper's variants (Tables 3-5).</summary>
public enum Variant { StlAsppSeg, StlAsppDepth, Mtl, MtlSe, MtlPp, MtlSpp, MtlSsw, MtlSeAspp, MtlSwPp }

/// <summary>
/// A network of the MTL_SSW family, as data. <see cref="Paper"/> gives the paper-sized networks (ResNet-50
/// dilated to output stride 8, 40 classes); <see cref="Light"/> the real-time networks for a CPU.
/// </summary>
public sealed record ModelConfig
{
    public Variant Variant { get; init; } = Variant.MtlSsw;
    public BackboneKind Backbone { get; init; } = BackboneKind.ResNet18Slim;
    public int OutputStride { get; init; } = 16;
    /// <summary>Backbone with the ImageNet ResNet-18's topology ([2,2,2,3] blocks), so its pretrained weights load.</summary>
    public bool ImageNetTopology { get; init; }
    public int NumClasses { get; init; } = 13;
    public TaskSet Tasks { get; init; } = TaskSet.Both;
    public HeadKind Head { get; init; } = HeadKind.PyramidPooling;
    public int HeadChannels { get; init; } = 96;
    public int[] AsppRates { get; init; } = [6, 12, 18];

    /// <summary>SE sub-network: this many SE-bottleneck blocks per task on the backbone features (0 = none).</summary>
    public int SeBlocks { get; init; }
    public int SeWidth { get; init; } = 64;
    public int SeReduction { get; init; } = 4;

    /// <summary>SE gate on the pyramid-pooled concatenation (MTL_SPP family); 0 = none.</summary>
    public int PpSeReduction { get; init; }

    public SwPlacement Sw { get; init; } = SwPlacement.None;
    public int SwGuideChannels { get; init; } = 96;
    public float SwSelf { get; init; } = 0.9f;
    public float SwCross { get; init; } = 0.1f;

    /// <summary>Light stride-4 skip decoder (real-time models); 0 = upsample the head output directly.</summary>
    public int DecoderChannels { get; init; }

    public int InputWidth { get; init; } = 256;
    public int InputHeight { get; init; } = 192;
    public float MaxDepth { get; init; } = 10f;

    public bool HasSegmentation => Tasks != TaskSet.DepthOnly;
    public bool HasDepth => Tasks != TaskSet.SegmentationOnly;

    public string ArchitectureName => Variant switch
    {
        Variant.StlAsppSeg => "STL_ASPP(seg)",
        Variant.StlAsppDepth => "STL_ASPP(depth)",
        Variant.Mtl => "MTL",
        Variant.MtlSe => "MTL_SE",
        Variant.MtlPp => "MTL_PP",
        Variant.MtlSpp => "MTL_SPP",
        Variant.MtlSsw => "MTL_SSW",
        Variant.MtlSeAspp => "MTL_SE+ASPP",
        Variant.MtlSwPp => "MTL_SW+PP",
        _ => Variant.ToString(),
    };

    public static Variant ParseVariant(string name) => name.ToLowerInvariant().Replace("+", "_").Replace("-", "_") switch
    {
        "stl_aspp" or "stl_aspp_seg" or "stl_seg" => Variant.StlAsppSeg,
        "stl_aspp_depth" or "stl_depth" => Variant.StlAsppDepth,
        "mtl" => Variant.Mtl,
        "mtl_se" => Variant.MtlSe,
        "mtl_pp" => Variant.MtlPp,
        "mtl_spp" => Variant.MtlSpp,
        "mtl_ssw" => Variant.MtlSsw,
        "mtl_se_aspp" => Variant.MtlSeAspp,
        "mtl_sw_pp" => Variant.MtlSwPp,
        _ => throw new ArgumentException($"unknown architecture '{name}'; choose one of: {string.Join(", ", AllNames)}"),
    };

    public static readonly string[] AllNames = ["stl_aspp_seg", "stl_aspp_depth", "mtl", "mtl_se", "mtl_pp", "mtl_spp", "mtl_ssw", "mtl_se+aspp",
        "mtl_sw+pp"];

    public static BackboneKind ParseBackbone(string name) => name.ToLowerInvariant() switch
    {
        "resnet18" => BackboneKind.ResNet18,
        "resnet34" => BackboneKind.ResNet34,
        "resnet50" => BackboneKind.ResNet50,
        "resnet18-slim" or "slim" or "light" => BackboneKind.ResNet18Slim,
        _ => throw new ArgumentException($"unknown backbone '{name}'; choose resnet18-slim (light), resnet18, resnet34 or resnet50"),
    };

    public static string BackboneName(BackboneKind k) => k switch
    {
        BackboneKind.ResNet18Slim => "resnet18-slim",
        _ => k.ToString().ToLowerInvariant(),
    };

    /// <summary>Variant structure shared by both sizes: which head, SE, PP-SE and SW a variant has.</summary>
    private static ModelConfig Shape(ModelConfig c, Variant v) => v switch
    {
        Variant.StlAsppSeg => c with { Variant = v, Tasks = TaskSet.SegmentationOnly, Head = HeadKind.Aspp },
        Variant.StlAsppDepth => c with { Variant = v, Tasks = TaskSet.DepthOnly, Head = HeadKind.Aspp },
        Variant.Mtl => c with { Variant = v, Head = HeadKind.Aspp },
        Variant.MtlSe => c with { Variant = v, Head = HeadKind.Fcn, SeBlocks = 1 },
        Variant.MtlPp => c with { Variant = v, Head = HeadKind.PyramidPooling },
        Variant.MtlSpp => c with { Variant = v, Head = HeadKind.PyramidPooling, SeBlocks = 1 },
        Variant.MtlSsw => c with { Variant = v, Head = HeadKind.PyramidPooling, SeBlocks = 1, Sw = SwPlacement.Head },
        Variant.MtlSeAspp => c with { Variant = v, Head = HeadKind.Aspp, SeBlocks = 1 },
        Variant.MtlSwPp => c with { Variant = v, Head = HeadKind.PyramidPooling, Sw = SwPlacement.Backbone },
        _ => throw new ArgumentOutOfRangeException(nameof(v)),
    };

    /// <summary>
    /// Paper-sized: ResNet-50 dilated to output stride 8, 40 classes, 480x640, ASPP 256 channels at rates
    /// 12/24/36, PSP/FCN heads 512 channels; SE sub-network one SE-bottleneck (width 640, reduction 4);
    /// SW guide 512 channels on head features, 768 on backbone features.
    /// </summary>
    public static ModelConfig Paper(Variant v, int classes = 40)
    {
        var head = v is Variant.StlAsppSeg or Variant.StlAsppDepth or Variant.Mtl or Variant.MtlSeAspp ? 256 : 512;
        var c = new ModelConfig
        {
            Backbone = BackboneKind.ResNet50, OutputStride = 8, NumClasses = classes, HeadChannels = head, AsppRates = [12, 24, 36],
            SeWidth = 640, SeReduction = 4, InputWidth = 640, InputHeight = 480,
        };
        c = Shape(c, v);
        return c with { SwGuideChannels = c.Sw == SwPlacement.Backbone ? 768 : 512 };
    }

    /// <summary>Real-time: ResNet-18 at half width, output stride 32, 96-channel heads, a 32-channel stride-4 decoder, 256x192 input.</summary>
    public static ModelConfig Light(Variant v, int classes = 13)
    {
        var c = new ModelConfig
        {
            Backbone = BackboneKind.ResNet18Slim, OutputStride = 32, NumClasses = classes, HeadChannels = 96, AsppRates = [3, 6, 9],
            SeWidth = 64, SeReduction = 4, SwGuideChannels = 96, DecoderChannels = 32, InputWidth = 256, InputHeight = 192,
        };
        return Shape(c, v);
    }

    public void Validate()
    {
        if (NumClasses is < 2 or > 254) throw new ArgumentException("classes must be between 2 and 254");
        if (InputWidth % 32 != 0 || InputHeight % 32 != 0) throw new
            ArgumentException($"input size {InputWidth}x{InputHeight} must be a multiple of 32");
        if (Sw != SwPlacement.None && Tasks != TaskSet.Both) throw new ArgumentException("selective weights need both tasks");
    }
}
