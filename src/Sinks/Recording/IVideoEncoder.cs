using OpenCvSharp;

namespace RealtimeMtl.Sinks.Recording;

/// <summary>Turns BGR frames of one size into a file. Write failures (disk full, the encoder dying) throw IOException with the cause.</summary>
internal interface IVideoEncoder : IDisposable
{
    string Description { get; }
    void Write(Mat bgr);
    /// <summary>Ends the stream and closes the file (playable); throws IOException when the encoder reports a failure.</summary>
    void Finish();
}
