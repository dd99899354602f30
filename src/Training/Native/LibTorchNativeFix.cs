using System.Buffers.Binary;
using System.Text;
using RealtimeMtl.Common.Logging;

namespace RealtimeMtl.Training.Native;

/// <summary>
/// TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13) although the only symbol of that
/// version, std::ios_base_library_init(), is never relocated. On hosts whose libstdc++ stops earlier
/// (Debian 12: 3.4.30) the library fails to load. Marking that one version requirement weak
/// (VER_FLG_WEAK in .gnu.version_r) makes the dynamic loader accept it. Applied only where the host lacks the
/// version, idempotently, to every copy TorchSharp may load (next to the app and its cpu/ copy folder). An explicit
/// step: rtmtl-train's start-up (and the training tests) call <see cref="EnsureLoadable"/> before any LibTorch use;
/// it says so in one line when it changes a file.
/// </summary>
public static class LibTorchNativeFix
{
    private const string MissingVersion = "GLIBCXX_3.4.32";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;
    private static int _applied;

    /// <summary>
    /// Patch the LibTorchSharp copies beside the running app when the host libstdc++ needs it. Idempotent (once per
    /// process; an already patched file is left as is). Returns how many files it changed.
    /// </summary>
    public static int EnsureLoadable(IEventLog? log = null)
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1 || !OperatingSystem.IsLinux()) return 0;
        if (HostHasVersion(MissingVersion)) return 0;
        var changed = 0;
        foreach (var lib in CandidateLibraries(AppContext.BaseDirectory))
        {
            try
            {
                if (!PatchFile(lib)) continue;
                changed++;
                (log ?? TextEventLog.StandardError).Info($"rtmtl-train: marked {MissingVersion} weak in {lib} (this host's libstdc++ lacks it; " +
                    $"TorchSharp loads now)");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                (log ?? TextEventLog.StandardError).Warning($"could not patch {lib} for this host's libstdc++ ({e.Message}); TorchSharp may fail " +
                    $"to load.");
            }
        }
        return changed;
    }

    public static IEnumerable<string> CandidateLibraries(string appDir)
    {
        foreach (var rel in new[] { "libLibTorchSharp.so", "runtimes/linux-x64/native/libLibTorchSharp.so", "cpu/libLibTorchSharp.so",
            "cuda/libLibTorchSharp.so" })
        {
            var path = Path.Combine(appDir, rel);
            if (File.Exists(path)) yield return path;
        }
    }

    /// <summary>True when some libstdc++.so.6 the loader would use exports the given symbol version.</summary>
    public static bool HostHasVersion(string version)
    {
        var dirs = new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64" };
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (var d in dirs)
        {
            var f = Path.Combine(d, "libstdc++.so.6");
            if (!File.Exists(f)) continue;
            return File.ReadAllBytes(f).AsSpan().IndexOf(needle) >= 0;
        }
        return true; // no libstdc++ found where we look: leave the library alone.
    }

    /// <summary>Marks the version requirement <paramref name="version"/> weak. Returns true when the file changed.</summary>
    public static bool PatchFile(string path, string version = MissingVersion)
    {
        var bytes = File.ReadAllBytes(path);
        if (!MarkWeak(bytes, version)) return false;
        RealtimeMtl.Common.Files.AtomicFile.Write(path, bytes);
        return true;
    }

    /// <summary>Edits an ELF64 little-endian image in memory. Returns true when a flag was changed.</summary>
    public static bool MarkWeak(byte[] elf, string version)
    {
        var span = elf.AsSpan();
        if (elf.Length < 64 || span[0] != 0x7f || span[1] != (byte)'E' || span[2] != (byte)'L' || span[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (span[4] != 2 || span[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        var shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        var changed = false;
        for (var i = 0; i < shnum; i++)
        {
            var sh = span[(int)(shoff + i * shentsize)..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed) continue;
            var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(sh[0x18..]);
            var link = BinaryPrimitives.ReadUInt32LittleEndian(sh[0x28..]);
            var count = BinaryPrimitives.ReadUInt32LittleEndian(sh[0x2C..]);
            var strSh = span[(int)(shoff + link * shentsize)..];
            var strOff = (long)BinaryPrimitives.ReadUInt64LittleEndian(strSh[0x18..]);
            var need = offset;
            for (var n = 0; n < count; n++)
            {
                var vn = span[(int)need..];
                int cnt = BinaryPrimitives.ReadUInt16LittleEndian(vn[2..]);
                var aux = need + BinaryPrimitives.ReadUInt32LittleEndian(vn[8..]);
                for (var a = 0; a < cnt; a++)
                {
                    var va = span[(int)aux..];
                    var name = ReadCString(span, strOff + BinaryPrimitives.ReadUInt32LittleEndian(va[8..]));
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(va[4..]);
                    if (name == version && (flags & VerFlagWeak) == 0)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(va[4..], (ushort)(flags | VerFlagWeak));
                        changed = true;
                    }
                    aux += BinaryPrimitives.ReadUInt32LittleEndian(va[12..]);
                }
                var next = BinaryPrimitives.ReadUInt32LittleEndian(vn[12..]);
                if (next == 0) break;
                need += next;
            }
        }
        return changed;
    }

    private static string ReadCString(ReadOnlySpan<byte> span, long offset)
    {
        var s = span[(int)offset..];
        var end = s.IndexOf((byte)0);
        return Encoding.ASCII.GetString(s[..end]);
    }
}
