namespace RealtimeMtl.Pipeline.Model;

/// <summary>A model file that cannot run in the engine. The message names the file and what is wrong.</summary>
public sealed class ModelContractException(string message, Exception? inner = null) : Exception(message, inner);
