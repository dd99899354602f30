using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace RealtimeMtl.Serving;

/// <summary>Optional shared-secret check for the web view and feeds: ?token=... or Authorization: Bearer ...</summary>
public static class AccessToken
{
    /// <summary>The cookie the web page's own requests carry once the page was opened with a valid token.</summary>
    public const string CookieName = "rtmtl_token";

    public static bool Allows(HttpContext context, string? token)
    {
        if (string.IsNullOrEmpty(token)) return true;
        string? given = context.Request.Query["token"];
        if (string.IsNullOrEmpty(given)) given = FromAuthorization(context.Request.Headers.Authorization.ToString());
        if (string.IsNullOrEmpty(given)) given = context.Request.Cookies[CookieName];
        return Matches(given, token);
    }

    /// <summary>The credentials of an "Authorization: Bearer ..." header; the scheme is case-insensitive (RFC 7235).</summary>
    public static string? FromAuthorization(string? header)
    {
        if (string.IsNullOrEmpty(header)) return null;
        var space = header.IndexOf(' ');
        if (space <= 0 || !header[..space].Equals("Bearer", StringComparison.OrdinalIgnoreCase)) return null;
        var value = header[(space + 1)..].Trim();
        return value.Length == 0 ? null : value;
    }

    /// <summary>Constant-time comparison of a presented token with the expected one.</summary>
    public static bool Matches(string? given, string token) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token));
}
