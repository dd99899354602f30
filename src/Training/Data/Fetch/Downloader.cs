using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using RealtimeMtl.Common.Files;
using RealtimeMtl.Common.Logging;

namespace RealtimeMtl.Training.Data.Fetch;

/// <summary>One file to download: its name in the target folder, where it comes from, and what it must be.</summary>
public sealed record RemoteFile(string Name, Uri Url, long? Size = null, string? Sha256 = null);

/// <summary>
/// Downloads into <c>NAME.part</c> and renames on success: resumes a partial file with an HTTP Range request (also
/// after a dropped connection, a few times within one run), checks size and SHA-256, and records each verified hash
/// in the folder's SHA256SUMS so that a later run checks the file against it. An existing file is never
/// overwritten: if it fails its check, the user is told to remove it.
/// </summary>
public sealed class Downloader(HttpClient http, IEventLog log, int attempts = 4)
{
    public const string SumsFile = "SHA256SUMS";

    public async Task<string> FetchAsync(RemoteFile file, string folder, CancellationToken ct = default)
    {
        var target = Path.Combine(folder, file.Name);
        var sums = ReadSums(folder);
        var expected = file.Sha256?.ToLowerInvariant() ?? sums.GetValueOrDefault(file.Name);
        if (File.Exists(target))
        {
            var length = new FileInfo(target).Length;
            if (file.Size is { } s && length != s)
                throw new InvalidDataException($"'{target}' exists but has {length} bytes, not {s}; remove it to download it again.");
            var have = await HashAsync(target, ct).ConfigureAwait(false);
            if (expected is not null && have != expected)
                throw new InvalidDataException($"'{target}' exists but its SHA-256 is {have}, not {expected}; remove it to download it again.");
            log.Info($"{file.Name}: already here ({length:N0} bytes, SHA-256 {have[..16]}...)");
            RecordSum(folder, file.Name, have);
            return target;
        }
        var part = target + ".part";
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await DownloadAsync(file, part, ct).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException && !ct.IsCancellationRequested)
            {
                var have = File.Exists(part) ? new FileInfo(part).Length : 0;
                // A user can fix this (the address, the network): one clear line, exit 2, and a .part named only if it exists.
                if (attempt >= attempts)
                    throw new InvalidDataException(have > 0
                        ? $"downloading {file.Url} failed after {attempts} tries ({e.Message}); {have:N0} bytes are kept in '{part}': run the same " +
                            $"command again to resume."
                        : $"could not download {file.Url} after {attempts} tries ({e.Message}); check the address (--url) and the network, then " +
                            $"run again.", e);
                log.Info($"{file.Name}: interrupted at {have:N0} bytes ({e.Message}); resuming (try {attempt + 1} of {attempts})");
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), ct).ConfigureAwait(false);
            }
        }
        var got = new FileInfo(part).Length;
        if (file.Size is { } size && got != size)
        {
            File.Delete(part);
            throw new InvalidDataException($"{file.Url} gave {got:N0} bytes, not the {size:N0} expected; the download was removed. Check --url and " +
                $"run again.");
        }
        var hash = await HashAsync(part, ct).ConfigureAwait(false);
        if (expected is not null && hash != expected)
        {
            File.Delete(part);
            throw new InvalidDataException($"{file.Name}: SHA-256 {hash} does not match the expected {expected}: the download is corrupt and was " +
                $"removed. Run again, or check --url.");
        }
        File.Move(part, target);
        RecordSum(folder, file.Name, hash);
        log.Info($"{file.Name}: {got:N0} bytes, SHA-256 " +
            $"{hash}{(expected is null ? " (recorded in " + SumsFile + "; no published checksum to compare)" : " (verified)")}");
        return target;
    }

    private async Task DownloadAsync(RemoteFile file, string part, CancellationToken ct)
    {
        var offset = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset > 0)
        {
            // The part already holds the whole file (the connection dropped after the last byte).
            var total416 = response.Content.Headers.ContentRange?.Length;
            if (total416 == offset) return;
            File.Delete(part);
            throw new IOException("the server refused to resume; starting over");
        }
        if (!response.IsSuccessStatusCode)
            throw new InvalidDataException($"{file.Url} answered {(int)response.StatusCode} {response.ReasonPhrase}; check --url.");
        long? total;
        FileMode mode;
        if (response.StatusCode == HttpStatusCode.PartialContent && offset > 0)
        {
            if (response.Content.Headers.ContentRange?.From != offset) throw new IOException("the server resumed at the wrong byte");
            total = response.Content.Headers.ContentRange?.Length;
            mode = FileMode.Append;
            log.Info($"{file.Name}: resuming at {offset:N0} bytes");
        }
        else
        {
            if (offset > 0) log.Info($"{file.Name}: the server does not resume downloads; starting over");
            offset = 0;
            total = response.Content.Headers.ContentLength;
            mode = FileMode.Create;
        }
        if (file.Size is { } size && total is { } t && t != size)
            throw new InvalidDataException($"{file.Url} is {t:N0} bytes, not the {size:N0} expected; check --url.");
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using var output = new FileStream(part, mode, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 20];
        var progress = new ByteProgress(file.Name, total, offset);
        long done = offset;
        int n;
        while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            done += n;
            progress.Report(done);
        }
        progress.Done();
        if (total is { } expectedTotal && done != expectedTotal)
            throw new IOException($"the connection closed at {done:N0} of {expectedTotal:N0} bytes");
    }

    public static async Task<string> HashAsync(string path, CancellationToken ct = default)
    {
        await using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(s, ct).ConfigureAwait(false));
    }

    private static Dictionary<string, string> ReadSums(string folder)
    {
        var path = Path.Combine(folder, SumsFile);
        var sums = new Dictionary<string, string>();
        if (!File.Exists(path)) return sums;
        foreach (var line in File.ReadAllLines(path))
        {
            var parts = line.Split("  ", 2);
            if (parts.Length == 2 && parts[0].Length == 64) sums[parts[1].Trim()] = parts[0].ToLowerInvariant();
        }
        return sums;
    }

    private static void RecordSum(string folder, string name, string hash)
    {
        var sums = ReadSums(folder);
        if (sums.GetValueOrDefault(name) == hash) return;
        sums[name] = hash;
        AtomicFile.WriteLines(Path.Combine(folder, SumsFile),
            sums.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Value}  {kv.Key}"));
    }

    /// <summary>A byte counter on stderr: done / total, percentage, rate and ETA when the length is known.</summary>
    private sealed class ByteProgress(string what, long? total, long start)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly RealtimeMtl.Common.Measuring.ProgressPrinter _printer = new(Console.Error) { Quiet = TimeSpan.FromSeconds(0.5) };

        public void Report(long done) => _printer.Show(() =>
        {
            var rate = (done - start) / Math.Max(1e-3, _clock.Elapsed.TotalSeconds);
            if (total is not { } t || t <= 0) return string.Create(CultureInfo.InvariantCulture, $"{what} {Mb(done)} MB, {Mb((long)rate)} MB/s");
            var eta = rate > 0 ? (t - done) / rate : 0;
            return string.Create(CultureInfo.InvariantCulture,
                $"{what} {Mb(done)} / {Mb(t)} MB ({100.0 * done / t:0} %), {Mb((long)rate)} MB/s, ETA " +
                    $"{RealtimeMtl.Common.Measuring.ProgressLine.Eta(eta)}");
        });

        public void Done() => _printer.Done();

        private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
    }
}
