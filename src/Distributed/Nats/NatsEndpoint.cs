using NATS.Client.Core;

namespace RealtimeMtl.Distributed.Nats;

/// <summary>
/// Where the NATS server is and how to prove who we are: a token, or a creds file (NKeys/JWT); TLS when the URL says
/// <c>tls://</c> (with an optional CA file). Validated at the edge; connecting turns the server's refusal into one sentence.
/// </summary>
public sealed record NatsEndpoint
{
    public required string Url { get; init; }
    public string? Token { get; init; }
    public string? CredsFile { get; init; }
    public string? CaFile { get; init; }

    /// <summary>Reads <c>--nats</c>, <c>--token</c>, <c>--creds</c> and <c>--tls-ca</c>; throws <see cref="ArgumentException"/> naming the
    /// input.</summary>
    public static NatsEndpoint Parse(string url, string? token = null, string? credsFile = null, string? caFile = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls") || string.IsNullOrEmpty(uri.Host))
            throw new ArgumentException($"--nats '{url}' must be a NATS server URL such as nats://127.0.0.1:4222 (or tls://HOST:4222 for TLS)");
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw new ArgumentException("--nats: put the credentials in --token or --creds FILE, not in the URL (it is printed in logs)");
        if (token is not null && credsFile is not null) throw new ArgumentException("give either --token or --creds, not both");
        if (token is { Length: 0 }) throw new ArgumentException("--token is empty");
        if (credsFile is not null && !File.Exists(credsFile)) throw new
            ArgumentException($"--creds '{credsFile}' does not exist; give the .creds file that nsc or your NATS operator issued");
        if (caFile is not null && !File.Exists(caFile)) throw new ArgumentException($"--tls-ca '{caFile}' does not exist");
        if (caFile is not null && uri.Scheme != "tls") throw new ArgumentException("--tls-ca applies to tls:// servers; use tls://HOST:PORT");
        return new NatsEndpoint { Url = url, Token = token, CredsFile = credsFile, CaFile = caFile };
    }

    /// <summary>The URL without anything secret, for messages.</summary>
    public string Display => Url;

    public NatsOpts Options(string clientName) => NatsOpts.Default with
    {
        Url = Url,
        Name = clientName,
        AuthOpts = NatsAuthOpts.Default with { Token = Token, CredsFile = CredsFile },
        TlsOpts = Url.StartsWith("tls://", StringComparison.Ordinal)
            ? NatsTlsOpts.Default with { Mode = TlsMode.Require, CaFile = CaFile }
            : NatsTlsOpts.Default,
        // A worker outlives a server restart: reconnect for ever, quickly at first.
        MaxReconnectRetry = -1,
        ReconnectWaitMin = TimeSpan.FromMilliseconds(250),
        ReconnectWaitMax = TimeSpan.FromSeconds(2),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Connects once; a refusal (authorisation, TLS, nothing listening) becomes a <see cref="NatsUnavailableException"/>.</summary>
    public async Task<NatsConnection> ConnectAsync(string clientName, CancellationToken ct = default)
    {
        var connection = new NatsConnection(Options(clientName));
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15), ct);
            return connection;
        }
        catch (Exception e) when (e is NatsException or TimeoutException or System.Net.Sockets.SocketException or IOException)
        {
            await connection.DisposeAsync();
            throw new NatsUnavailableException(Explain(e), e);
        }
    }

    private string Explain(Exception e)
    {
        var text = e.ToString();
        if (text.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase) || text.Contains("authorization",
            StringComparison.OrdinalIgnoreCase))
            return $"the NATS server at {Display} refused us (authorisation): " +
                $"{(Token is null && CredsFile is null ? "it needs credentials; give --token TOKEN or --creds FILE" : "check --token or --creds")}";
        if (text.Contains("AuthenticationException", StringComparison.Ordinal) || text.Contains("RemoteCertificate", StringComparison.Ordinal))
            return $"the NATS server at {Display} has a TLS certificate we do not " +
                $"trust{(CaFile is null ? "; give its CA with --tls-ca FILE" : $" (checked against --tls-ca {CaFile})")}";
        if (e is TimeoutException) return $"no NATS server answered at {Display} within 15 s; start one (nats-server -js -sd DIR) or check the " +
            $"address";
        return $"could not reach the NATS server at {Display} ({e.GetBaseException().Message}); start one (nats-server -js -sd DIR) or check the " +
            $"address";
    }
}
