namespace RealtimeMtl.Distributed.Jobs;

/// <summary>A file is processed once and its outputs committed; a camera (a stream URL) is held by one worker while it runs.</summary>
public enum JobKind { File, Camera }
