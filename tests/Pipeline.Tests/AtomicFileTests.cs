using RealtimeMtl.Common.Files;

namespace RealtimeMtl.Pipeline.Tests;

/// <summary>The one way rtmtl writes a whole file: replaced in one rename, links followed, nothing left behind.</summary>
public class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rtmtl-atomic-").FullName;

    [Fact]
    public void A_write_replaces_the_file_whole_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_dir, "stats.json");
        File.WriteAllText(path, "old and longer than the new text");
        AtomicFile.Write(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["stats.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_symbolic_link_is_followed_and_stays_a_link()
    {
        var real = Path.Combine(_dir, "real.json");
        var link = Path.Combine(_dir, "link.json");
        File.WriteAllText(real, "old");
        File.CreateSymbolicLink(link, real);
        AtomicFile.Write(link, "new"u8);
        Assert.Equal("new", File.ReadAllText(real));
        Assert.NotNull(new FileInfo(link).LinkTarget);
    }

    [Fact]
    public void A_write_into_a_missing_folder_fails_and_creates_nothing()
    {
        var path = Path.Combine(_dir, "missing", "x.json");
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(path, "x"));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
