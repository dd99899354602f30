using System.Text.Json;

namespace RealtimeMtl.Cli.Tests;

/// <summary>Sources as users give them: a folder or glob of videos is a queue of files; a .streams file lists cameras.</summary>
public class SourceListTests
{
    private static void Clip(string path, int frames) =>
        Assert.Equal(0, Engine.Run($"run --source synthetic:frames={frames},size=96x72 --record {path} --quiet").Code);

    [Fact]
    public async Task A_glob_of_videos_runs_as_a_queue_each_file_into_its_own_subfolder_and_a_broken_file_does_not_stop_it()
    {
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        var clips = Path.Combine(work, "clips");
        Directory.CreateDirectory(clips);
        Clip(Path.Combine(clips, "walk2.mp4"), 5);
        Clip(Path.Combine(clips, "walk10.mp4"), 7);
        File.WriteAllText(Path.Combine(clips, "broken.mp4"), "not a video");
        File.WriteAllText(Path.Combine(clips, "notes.txt"), "not in the glob");

        // An output every file would overwrite is refused before anything runs.
        var refused = await Engine.RunAsync("run --source clips/*.mp4 --record out.mp4", null, workingDirectory: work);
        Assert.Equal(2, refused.Code);
        Assert.Contains("{name}", refused.Stderr);
        Assert.False(Directory.Exists(Path.Combine(work, "runs")));

        var r = await Engine.RunAsync($"run --source clips/*.mp4 --save --record-mcap out/{{name}}.mcap -m {Engine.ShippedModel}", null,
            workingDirectory: work);
        Assert.Equal(3, r.Code); // broken.mp4 failed; the others ran
        // Natural order, with a progress line per file.
        var order = r.Stderr.Split('\n').Where(l => l.StartsWith("file ")).ToList();
        Assert.Equal(["file 1/3: clips/broken.mp4", "file 2/3: clips/walk2.mp4", "file 3/3: clips/walk10.mp4"], order);
        Assert.Contains("queue   3 files: 2 finished, 1 failed: broken.mp4 (exit 2)", r.Stdout);
        var run = Path.Combine(work, "runs", "run", "run-1");
        foreach (var (name, frames) in new[] { ("walk2", 5), ("walk10", 7) })
        {
            Assert.Equal(frames, Engine.Probe(Path.Combine(run, name, "annotated.mp4")).Frames);
            // Raw outputs of a file are named after it.
            Assert.Equal(frames, Directory.GetFiles(Path.Combine(run, name, "raw"), $"{name}_*_labels.png").Length);
            var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, name, "stats.json"))).RootElement;
            Assert.Equal(2, stats.GetProperty("schema_version").GetInt32());
            Assert.Equal(frames, stats.GetProperty("frames").GetInt64());
            Assert.Equal(Path.Combine("out", name + ".mcap"), stats.GetProperty("outputs").GetProperty("mcap").GetString());
            Assert.True(File.Exists(Path.Combine(work, "out", name + ".mcap")));
            // args.json: the options as resolved, the version and the commit.
            var args = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, name, "args.json"))).RootElement;
            Assert.Equal("run", args.GetProperty("command").GetString());
            Assert.False(string.IsNullOrEmpty(args.GetProperty("commit").GetString()));
            Assert.True(args.GetProperty("options").GetProperty("save").GetBoolean());
            Assert.Equal("out/{name}.mcap", args.GetProperty("options").GetProperty("record-mcap").GetString());
            Assert.Equal("camera_optical_frame", args.GetProperty("options").GetProperty("frame-id").GetString());
        }
        Assert.Equal("run-1", new DirectoryInfo(Path.Combine(work, "runs", "run", "latest")).LinkTarget);
    }

    [Fact]
    public async Task A_streams_file_gives_one_camera_a_line_with_comments_and_names()
    {
        var work = Path.GetDirectoryName(Engine.Temp("x"))!;
        File.WriteAllText(Path.Combine(work, "site.streams"), """
            # the two test cameras
            synthetic:seed=1,frames=4,size=96x72

            yard=synthetic:seed=2,frames=6,size=64x48
            """);
        var r = await Engine.RunAsync($"run --source site.streams --record out/{{camera}}.mp4 --json - --quiet -m {Engine.ShippedModel}", null,
            workingDirectory: work);
        Assert.True(r.Code == 0, r.Stderr);
        var cameras = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("cameras").EnumerateArray().ToList();
        Assert.Equal(["cam0", "yard"], cameras.Select(c => c.GetProperty("camera").GetString()!).ToArray());
        Assert.Equal(4, Engine.Probe(Path.Combine(work, "out", "cam0.mp4")).Frames);
        Assert.Equal(6, Engine.Probe(Path.Combine(work, "out", "yard.mp4")).Frames);
        var empty = Path.Combine(work, "none.streams");
        File.WriteAllText(empty, "# nothing yet\n");
        var bad = await Engine.RunAsync($"run --source {empty}", null, workingDirectory: work);
        Assert.Equal(2, bad.Code);
        Assert.Contains("none.streams", bad.Stderr);
    }
}
