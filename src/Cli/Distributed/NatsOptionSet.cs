using System.CommandLine;
using RealtimeMtl.Distributed.Jobs;
using RealtimeMtl.Distributed.Nats;

namespace RealtimeMtl.Cli.Distributed;

/// <summary>The options every many-machines command shares: the server, credentials and the queue's name.</summary>
internal sealed class NatsOptionSet
{
    public readonly Option<string> Nats = new("--nats")
    {
        Description =
        "NATS server with JetStream, e.g. nats://10.0.0.5:4222 (tls://HOST:4222 for TLS)", Required = true
    };
    public readonly Option<string?> Token = new("--token") { Description = "The server's token (nats-server --auth TOKEN)" };
    public readonly Option<string?> Creds = new("--creds") { Description = "A .creds file (NKeys/JWT) instead of a token" };
    public readonly Option<string?> TlsCa = new("--tls-ca") { Description = "CA certificate for a tls:// server with a private CA" };
    public readonly Option<string> Queue = new("--queue")
    {
        Description = "Queue name: stream RTMTL_{QUEUE}, job table rtmtl-jobs-{queue}",
        DefaultValueFactory = _ => "default"
    };

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { Nats, Token, Creds, TlsCa, Queue }) c.Options.Add(o);
    }

    public (NatsEndpoint Endpoint, string Queue) Read(ParseResult r)
    {
        var endpoint = NatsEndpoint.Parse(r.GetValue(Nats)!, r.GetValue(Token), r.GetValue(Creds), r.GetValue(TlsCa));
        var queue = r.GetValue(Queue)!;
        WorkQueue.ValidateName(queue);
        return (endpoint, queue);
    }
}
