namespace RealtimeMtl.Distributed.Nats;

/// <summary>The NATS server cannot be reached or refused us; the message says which and what to do.</summary>
public sealed class NatsUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
