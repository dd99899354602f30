namespace RealtimeMtl.Render.Drawing;

/// <summary>Lines of text written in place into buffers that are kept (a HUD rebuilt a few times a second), so no line
/// is a string of its own: <c>lines.Next().TryWrite(c, $"{fps} FPS", out var n); lines.Commit(n);</c></summary>
public sealed class TextLines(int capacity = 8, int width = 160)
{
    private readonly char[][] _lines = [.. Enumerable.Range(0, capacity).Select(_ => new char[width])];
    private readonly int[] _lengths = new int[capacity];

    public int Count { get; private set; }

    public ReadOnlySpan<char> this[int index] => index < Count
        ? _lines[index].AsSpan(0, _lengths[index]) : throw new ArgumentOutOfRangeException(nameof(index));

    public void Clear() => Count = 0;

    /// <summary>The buffer the next line is written into; empty once every line is used.</summary>
    public Span<char> Next() => Count < _lines.Length ? _lines[Count] : [];

    /// <summary>Ends the line written into <see cref="Next"/> with its first <paramref name="written"/> characters.</summary>
    public void Commit(int written)
    {
        if (Count == _lines.Length) return;
        _lengths[Count++] = Math.Clamp(written, 0, _lines[Count - 1].Length);
    }
}
