namespace RealtimeMtl.Pipeline.Sources;

/// <summary>A source could not be opened or read. The message names the input and what to do, in one sentence.</summary>
public sealed class SourceException(string message, Exception? inner = null) : Exception(message, inner);
