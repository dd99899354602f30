using System.Diagnostics;
using System.Globalization;
using System.Text;
using OpenCvSharp;

namespace RealtimeMtl.Sinks.Recording;

/// <summary>
/// H.264 through the ffmpeg program: raw BGR frames are piped to its stdin and encoded in its own process
/// (libx264 with a real-time preset, or h264_nvenc), yuv420p so that every browser plays it. An .mp4 is written
/// fragmented, one fragment per second (a keyframe every second), so a killed run leaves a playable file that loses
/// at most the last second; .mkv writes one-second clusters. A writer thread feeds the pipe from a few pooled
/// buffers, so the pipeline's record stage only copies the frame; when ffmpeg falls behind for longer than the
/// buffers last, Write waits (a recording never loses a frame).
/// </summary>
internal sealed class FfmpegVideoEncoder : IVideoEncoder
{
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly StringBuilder _stderr = new();
    private readonly int _frameBytes;
    private const int Buffers = 6;
    // Blocking queues: waiting on them (record stage for a free buffer, writer thread for a frame) allocates nothing.
    private readonly BufferQueue _free = new(Buffers);
    private readonly BufferQueue _queued = new(Buffers);
    private readonly Thread _writer;
    private volatile Exception? _writeError;

    /// <param name="matroska">MKV instead of fragmented MP4 (null: from <paramref name="path"/>'s extension).</param>
    public FfmpegVideoEncoder(string ffmpeg, string path, double fps, Size size, bool nvenc, bool? matroska = null)
    {
        var c = CultureInfo.InvariantCulture;
        var gop = Math.Max(1, (int)Math.Round(fps));
        var codec = nvenc
            ? $"-c:v h264_nvenc -preset p1 -tune ll -g {gop}"
            : $"-c:v libx264 -preset ultrafast -tune zerolatency -crf 23 -g {gop} -keyint_min {gop} -sc_threshold 0";
        var container = matroska ?? Path.GetExtension(path).ToLowerInvariant() == ".mkv"
            ? "-f matroska -cluster_time_limit 1000"
            : "-f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof -frag_duration 1000000";
        var args = string.Create(c, $"-hide_banner -loglevel error -y -f rawvideo -pix_fmt bgr24 -s {size.Width}x{size.Height} -r {fps} -i pipe:0 " +
            $"{codec} -pix_fmt yuv420p {container} \"{path}\"");
        // In a session of its own: a Ctrl+C at the terminal reaches rtmtl, which closes the file; never the encoder mid-file.
        var start = RealtimeMtl.Common.Commands.ChildProcesses.OwnSession(ffmpeg, args);
        start.RedirectStandardInput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        _process = Process.Start(start) ?? throw new IOException("could not start ffmpeg");
        // The encoder yields to inference and rendering when the cores are busy; its buffers absorb the wait.
        try { _process.PriorityClass = ProcessPriorityClass.BelowNormal; }
        catch (Exception e) when (e is InvalidOperationException or
            System.ComponentModel.Win32Exception)
        { }
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _stdin = _process.StandardInput.BaseStream;
        _frameBytes = size.Width * size.Height * 3;
        // Buffers come from the shared pool and go back at the end: a second recording in the process allocates nothing.
        for (var i = 0; i < Buffers; i++) _free.Add(System.Buffers.ArrayPool<byte>.Shared.Rent(_frameBytes));
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "rtmtl-record-pipe" };
        _writer.Start();
        Description = nvenc ? "H.264 (h264_nvenc, ffmpeg)" : "H.264 (libx264, ffmpeg)";
    }

    private void WriteLoop()
    {
        // Until Finish or Dispose completes the queue and it is drained.
        while (_queued.Take() is { } buffer)
        {
            try { if (_writeError is null) _stdin.Write(buffer, 0, _frameBytes); }
            catch (IOException e) { _writeError = new IOException($"ffmpeg stopped taking frames: {Cause(e.Message)}", e); }
            _free.Add(buffer);
        }
    }

    public string Description { get; }

    public unsafe void Write(Mat bgr)
    {
        if (!bgr.IsContinuous()) throw new InvalidOperationException("recorder frames must be continuous");
        if (_writeError is { } error) throw error;
        var buffer = _free.Take() ?? throw new InvalidOperationException("the recorder was closed");
        new ReadOnlySpan<byte>((void*)bgr.Data, _frameBytes).CopyTo(buffer);
        _queued.Add(buffer);
    }

    public void Finish()
    {
        _queued.CompleteAdding();
        _writer.Join();
        try { _stdin.Close(); }
        catch (IOException) { }
        if (_writeError is { } error)
        {
            _process.WaitForExit(10_000);
            throw error;
        }
        if (!_process.WaitForExit(60_000))
        {
            _process.Kill(true);
            throw new IOException("ffmpeg did not finish the recording within a minute");
        }
        _process.WaitForExit();
        if (_process.ExitCode != 0) throw new IOException($"ffmpeg failed (exit {_process.ExitCode}): {Cause(null)}");
    }

    private string Cause(string? fallback)
    {
        // Give ffmpeg a moment to say why it stopped (disk full, I/O error). Once it has exited, the parameterless
        // WaitForExit also waits until its stderr was read to the end: the timed one does not, and the last line
        // (the cause) could still be in flight.
        if (_process.HasExited || _process.WaitForExit(2000)) _process.WaitForExit();
        lock (_stderr)
        {
            var lines = _stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // A full disk is the cause whatever ffmpeg printed after it (its muxer's own complaints).
            return lines.LastOrDefault(l => l.Contains("No space left", StringComparison.OrdinalIgnoreCase))
                ?? (lines.Length > 0 ? lines[^1] : fallback ?? "no message");
        }
    }

    public void Dispose()
    {
        _queued.CompleteAdding();
        try { if (!_process.HasExited) _process.Kill(true); } catch (InvalidOperationException) { }
        if (_writer.Join(TimeSpan.FromSeconds(5)))
            while (_free.TryTake() is { } b) System.Buffers.ArrayPool<byte>.Shared.Return(b);
        _process.Dispose();
    }

    /// <summary>The ffmpeg program on PATH, or null (one search for every element that runs ffmpeg).</summary>
    public static string? Find() => RealtimeMtl.Common.Commands.ExternalTools.Find("ffmpeg");

    private static readonly Lazy<bool> NvencWorks = new(() =>
    {
        var ffmpeg = Find();
        if (ffmpeg is null) return false;
        try
        {
            using var p = Process.Start(new ProcessStartInfo(ffmpeg,
                "-hide_banner -loglevel error -f lavfi -i color=size=256x256:rate=1 -frames:v 1 -c:v h264_nvenc -f null -")
            { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false });
            if (p is null) return false;
            p.StandardError.ReadToEnd();
            return p.WaitForExit(10_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    });

    /// <summary>Whether ffmpeg's h264_nvenc encodes here (an NVIDIA driver is present); probed once.</summary>
    public static bool HasNvenc => NvencWorks.Value;

    /// <summary>Rewrites a finished fragmented MP4 as a normal one with its index first (seekable, starts at once).</summary>
    public static bool Faststart(string ffmpeg, string fragmented, string output)
    {
        using var p = Process.Start(new ProcessStartInfo(ffmpeg,
            $"-hide_banner -loglevel error -y -i \"{fragmented}\" -c copy -movflags +faststart -f mp4 \"{output}\"")
        { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false });
        if (p is null) return false;
        p.StandardError.ReadToEnd();
        return p.WaitForExit(120_000) && p.ExitCode == 0 && File.Exists(output) && new FileInfo(output).Length > 0;
    }

    /// <summary>A bounded FIFO of buffers with blocking take (Monitor): no allocation per item or per wait.</summary>
    private sealed class BufferQueue(int capacity)
    {
        private readonly byte[]?[] _items = new byte[]?[capacity];
        private int _head, _count;
        private bool _completed;

        public void Add(byte[] item)
        {
            lock (_items)
            {
                if (_completed) throw new InvalidOperationException("the queue was completed");
                if (_count == _items.Length) throw new InvalidOperationException("the queue is full");
                _items[(_head + _count++) % _items.Length] = item;
                Monitor.PulseAll(_items);
            }
        }

        /// <summary>The next item, waiting for one; null once completed and empty.</summary>
        public byte[]? Take()
        {
            lock (_items)
            {
                while (_count == 0 && !_completed) Monitor.Wait(_items);
                return TakeLocked();
            }
        }

        public byte[]? TryTake()
        {
            lock (_items) return TakeLocked();
        }

        private byte[]? TakeLocked()
        {
            if (_count == 0) return null;
            var item = _items[_head];
            _items[_head] = null;
            _head = (_head + 1) % _items.Length;
            _count--;
            return item;
        }

        public void CompleteAdding()
        {
            lock (_items) { _completed = true; Monitor.PulseAll(_items); }
        }
    }
}
