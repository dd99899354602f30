using CsCheck;

namespace RealtimeMtl.Tests.Shared;

/// <summary>Inputs for the bounded fuzz tests: random bytes, or a valid file with bits flipped, a run overwritten, or cut short.</summary>
public static class FuzzInputs
{
    public static Gen<byte[]> Mutations(byte[] valid) => Gen.OneOf(
        Gen.Byte.Array[0, 4096],
        from n in Gen.Int[1, 32] from seed in Gen.Int select Flip(valid, n, seed),
        from at in Gen.Int[0, valid.Length - 1] from len in Gen.Int[1, 512] from b in Gen.Byte select Overwrite(valid, at, len, b),
        from cut in Gen.Int[0, valid.Length - 1] select valid[..cut]);

    public static byte[] Flip(byte[] valid, int n, int seed)
    {
        var copy = (byte[])valid.Clone();
        var rng = new Random(seed);
        for (var i = 0; i < n; i++) copy[rng.Next(copy.Length)] ^= (byte)(1 << rng.Next(8));
        return copy;
    }

    public static byte[] Overwrite(byte[] valid, int at, int len, byte b)
    {
        var copy = (byte[])valid.Clone();
        for (var i = at; i < Math.Min(copy.Length, at + len); i++) copy[i] = b;
        return copy;
    }

    /// <summary>
    /// Runs <paramref name="consume"/> on the input written to a file, with a deadline. True when it ended with a
    /// valid result or an expected (clear) error; otherwise the input is saved to <paramref name="regressions"/> and the
    /// test fails naming the file.
    /// </summary>
    public static bool EndsCleanly(string kind, byte[] input, Action<string> consume, string extension, Func<Exception, bool> clearError,
        string regressions, TimeSpan deadline)
    {
        var dir = Directory.CreateTempSubdirectory("rtmtl-fuzz-").FullName;
        var path = Path.Combine(dir, "input" + extension);
        File.WriteAllBytes(path, input);
        Exception? failure = null;
        var work = Task.Run(() =>
        {
            try { consume(path); }
            catch (Exception e) when (clearError(e)) { }
            catch (Exception e) { failure = e; }
        });
        var finished = work.Wait(deadline);
        if (finished && failure is null)
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
            return true;
        }
        Directory.CreateDirectory(regressions);
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16].ToLowerInvariant();
        File.WriteAllBytes(Path.Combine(regressions, $"{kind}-{hash}.bin"), input);
        throw new InvalidOperationException($"{kind} input saved as tests/fuzz-regressions/{kind}-{hash}.bin: " + (finished ? failure!.ToString()
            : $"no result within {deadline.TotalSeconds} s"));
    }

    /// <summary>Replays every saved regression input of <paramref name="kind"/>.</summary>
    public static void Replay(string kind, Func<byte[], bool> check, string regressions)
    {
        if (!Directory.Exists(regressions)) return;
        foreach (var file in Directory.GetFiles(regressions, kind + "-*.bin")) check(File.ReadAllBytes(file));
    }
}
