namespace RealtimeMtl.Sinks.Mcap;

/// <summary>How MCAP chunks are compressed (--mcap-compression).</summary>
public enum McapCompression
{
    None,
    Lz4,
    Zstd,
}
