using System.Text;

namespace RealtimeMtl.Common.Commands;

/// <summary>
/// <c>@FILE</c> arguments: the file's tokens in its place, split at white space as a shell would (quotes keep spaces;
/// blank lines and lines starting with '#' are skipped). A response file may name others; one that names itself, directly
/// or through others, a file that is not text, or one over 1 MiB is refused with one sentence naming it, never a hang
/// or a stack trace. Both programs (rtmtl, rtmtl-train) expand them here before parsing.
/// </summary>
public static class ResponseFiles
{
    public const int MaxBytes = 1 << 20;
    private const int MaxDepth = 16;

    /// <summary>The arguments with every @FILE replaced by its tokens; <see cref="ArgumentException"/> on a bad one.</summary>
    public static string[] Expand(IReadOnlyList<string> args)
    {
        var expanded = new List<string>();
        foreach (var a in args) Add(a, expanded, []);
        return expanded.ToArray();
    }

    private static void Add(string arg, List<string> into, List<string> chain)
    {
        if (arg.Length < 2 || arg[0] != '@') { into.Add(arg); return; }
        var path = arg[1..];
        var full = Path.GetFullPath(path);
        if (chain.Contains(full, StringComparer.Ordinal))
            throw new ArgumentException($"response file '{path}' names itself (through {string.Join(" -> ", chain.Select(Path.GetFileName))}); "
                + $"remove the loop.");
        if (chain.Count >= MaxDepth) throw new ArgumentException($"response file '{path}' is nested more than {MaxDepth} deep; flatten it.");
        if (!File.Exists(full)) throw new ArgumentException($"response file '{path}' does not exist; write the options one per line, or drop the "
            + $"'@'.");
        var info = new FileInfo(full);
        if (info.Length > MaxBytes) throw new ArgumentException($"response file '{path}' is {info.Length / 1024} KiB; a response file is a short "
            + $"text file of options (1 MiB at most).");
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(full)); }
        catch (DecoderFallbackException) { text = "\0"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"response file '{path}' cannot be read ({e.Message}).");
        }
        if (text.Contains('\0')) throw new ArgumentException($"response file '{path}' is not text (binary content); give a text file of options, "
            + $"one per line.");
        chain.Add(full);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            foreach (var token in Split(line)) Add(token, into, chain);
        }
        chain.RemoveAt(chain.Count - 1);
    }

    /// <summary>A line's tokens: split at white space outside single or double quotes, the quotes removed.</summary>
    private static IEnumerable<string> Split(string line)
    {
        var token = new StringBuilder();
        var any = false;
        char? quote = null;
        foreach (var c in line)
        {
            if (quote is { } q) { if (c == q) quote = null; else token.Append(c); continue; }
            if (c is '"' or '\'') { quote = c; any = true; continue; }
            if (char.IsWhiteSpace(c))
            {
                if (any || token.Length > 0) yield return token.ToString();
                token.Clear(); any = false;
                continue;
            }
            token.Append(c);
        }
        if (any || token.Length > 0) yield return token.ToString();
    }
}
