using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace RealtimeMtl.Pipeline.Serving;

/// <summary>Optional shared-secret check for the web view and feeds: ?token=... or Authorization: Bearer ...</summary>
public static class AccessToken
{
    public static bool Allows(HttpContext context, string? token)
    {
        if (string.IsNullOrEmpty(token)) return true;
        string? given = context.Request.Query["token"];
        if (string.IsNullOrEmpty(given))
        {
            var auth = context.Request.Headers.Authorization.ToString();
            if (auth.StartsWith("Bearer ", StringComparison.Ordinal)) given = auth[7..];
        }
        return Matches(given, token);
    }

    /// <summary>Constant-time comparison of a presented token with the expected one.</summary>
    public static bool Matches(string? given, string token) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token));

    /// <summary>Stops and disposes a hosted app within two seconds.</summary>
    public static async ValueTask StopAsync(Microsoft.AspNetCore.Builder.WebApplication? app)
    {
        if (app is null) return;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await app.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        await app.DisposeAsync();
    }
}
