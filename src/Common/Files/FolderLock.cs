namespace RealtimeMtl.Common.Files;

/// <summary>
/// A run's hold on an output folder (--save-raw, --save-pointcloud): an exclusive lock (flock, which the kernel
/// releases when the process dies) on a small file in it, so that a second run writing into the same folder is refused
/// at start instead of mixing its numbered files with the first run's. The file is removed when the run ends.
/// </summary>
public sealed class FolderLock : IDisposable
{
    public const string FileName = ".rtmtl-writing";
    private readonly FileStream _stream;
    private readonly string _path;

    private FolderLock(FileStream stream, string path) => (_stream, _path) = (stream, path);

    /// <summary>Takes the folder (made if missing) or throws one <see cref="ArgumentException"/> naming the option.</summary>
    public static FolderLock Take(string dir, string option)
    {
        OutputFile.EnsureFolder(dir, option);
        var path = Path.Combine(dir, FileName);
        try { return new FolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), path); }
        catch (IOException)
        {
            throw new ArgumentException($"{option} '{dir}': another run is writing into this folder now ({FileName} is locked); wait for it to "
                + $"finish or choose another folder.");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ArgumentException($"{option} '{dir}' cannot be written ({e.Message}); choose a writable folder.");
        }
    }

    public void Dispose()
    {
        try { File.Delete(_path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        _stream.Dispose();
    }
}
