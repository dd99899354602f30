using System.Globalization;

namespace RealtimeMtl.Render.Drawing;

/// <summary>Lines of text written in place into buffers that are kept (a HUD rebuilt a few times a second), so no line
/// is a string of its own: <c>lines.Begin().Figure(fps).Text(" FPS").End();</c>. The writer's calls are not generic, so
/// nothing is boxed even before the runtime has optimised them.</summary>
public sealed class TextLines(int capacity = 8, int width = 160)
{
    private readonly char[][] _lines = [.. Enumerable.Range(0, capacity).Select(_ => new char[width])];
    private readonly int[] _lengths = new int[capacity];

    public int Count { get; private set; }

    public ReadOnlySpan<char> this[int index] => index < Count
        ? _lines[index].AsSpan(0, _lengths[index]) : throw new ArgumentOutOfRangeException(nameof(index));

    public void Clear() => Count = 0;

    /// <summary>Starts the next line; a line past the capacity is written nowhere and dropped.</summary>
    public Line Begin() => new(this, Count < _lines.Length ? _lines[Count] : []);

    /// <summary>One line being written; what does not fit in the buffer is cut.</summary>
    public ref struct Line(TextLines owner, Span<char> buffer)
    {
        private readonly Span<char> _buffer = buffer;
        private int _n;

        public Line Text(ReadOnlySpan<char> text)
        {
            var take = Math.Min(text.Length, _buffer.Length - _n);
            text[..take].CopyTo(_buffer[_n..]);
            _n += take;
            return this;
        }

        /// <summary>A figure with fixed decimals (1 or 2), "-" when not finite.</summary>
        public Line Figure(double value, int decimals = 1)
        {
            if (!double.IsFinite(value)) return Text("-");
            if (value.TryFormat(_buffer[_n..], out var written, decimals == 2 ? "0.00" : "0.0", CultureInfo.InvariantCulture)) _n += written;
            return this;
        }

        public Line Number(long value)
        {
            if (value.TryFormat(_buffer[_n..], out var written, default, CultureInfo.InvariantCulture)) _n += written;
            return this;
        }

        public readonly void End()
        {
            if (owner.Count == owner._lines.Length) return;
            owner._lengths[owner.Count++] = _n;
        }
    }
}
