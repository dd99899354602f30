using System.Diagnostics;
using System.Text;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// The ROS 2 tests' own DDS peers: C programs in tests/clients/dds, built once per test run with Debian's idlc and gcc
/// from an IDL written for the ROS 2 message types; they share no code with the engine. Every participant, the
/// engine's and the peers', is kept on loopback by <see cref="LoopbackUri"/>, each test on a domain of its own.
/// </summary>
internal static class DdsPeers
{
    /// <summary>Cyclone on 127.0.0.1 only, no multicast, peers found by unicast on loopback (../shared/ENVIRONMENT.md).</summary>
    public const string LoopbackUri = "<CycloneDDS><Domain><General><Interfaces><NetworkInterface address=\"127.0.0.1\"/></Interfaces>"
        + "<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex><Peers><Peer "
            + "address=\"127.0.0.1\"/></Peers>"
        + "</Discovery></Domain></CycloneDDS>";

    private static readonly Lazy<string> Built = new(Build);
    private static int _domain = 40 + System.Environment.ProcessId % 60;

    public static string Sub => Path.Combine(Built.Value, "peer_sub");
    public static string Pub => Path.Combine(Built.Value, "peer_pub");

    /// <summary>A ROS_DOMAIN_ID no other test of this run uses, and the loopback settings.</summary>
    public static Dictionary<string, string> Environment()
    {
        var domain = 1 + Interlocked.Increment(ref _domain) % 200;
        return new Dictionary<string, string>
        {
            ["CYCLONEDDS_URI"] = LoopbackUri,
            ["ROS_DOMAIN_ID"] = domain.ToString(System.Globalization.CultureInfo.InvariantCulture)
        };
    }

    private static string Build()
    {
        var idlc = Engine.Tool("idlc", "cyclonedds-dev");
        var gcc = Engine.Tool("gcc", "gcc");
        var dir = Path.GetDirectoryName(Engine.Temp("peers"))!;
        foreach (var f in Directory.GetFiles(Path.Combine(Engine.Root, "tests", "clients", "dds"))) File.Copy(f, Path.Combine(dir,
            Path.GetFileName(f)));
        foreach (var (exe, args) in new[]
        {
            (idlc, "ros2_types.idl"),
            (gcc, "-O2 -o peer_sub peer_sub.c ros2_types.c -lddsc"),
            (gcc, "-O2 -o peer_pub peer_pub.c ros2_types.c -lddsc"),
        })
        {
            var (code, output) = ServingTests.RunTool(exe, args, dir);
            if (code != 0) throw new InvalidOperationException($"building the DDS peers failed ({Path.GetFileName(exe)} {args}): {output}");
        }
        return dir;
    }

    /// <summary>A peer running: its stdout lines as they come.</summary>
    public sealed class Peer : IDisposable
    {
        private readonly Process _p;
        private readonly List<string> _lines = [];
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly StringBuilder _stderr = new();

        public Peer(string exe, string args, IReadOnlyDictionary<string, string> environment)
        {
            var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var (k, v) in environment) psi.Environment[k] = v;
            _p = Process.Start(psi)!;
            _p.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_lines) _lines.Add(e.Data);
                if (e.Data == "ready") _ready.TrySetResult();
            };
            _p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
            _p.BeginOutputReadLine();
            _p.BeginErrorReadLine();
        }

        public int Pid => _p.Id;
        public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
        public IReadOnlyList<string> Lines { get { lock (_lines) return _lines.ToList(); } }

        /// <summary>The lines of one kind (image, info, string, tf) on one topic, split into fields.</summary>
        public List<string[]> Of(string kind, string topic) =>
            Lines.Select(l => l.Split(' ')).Where(f => f.Length > 2 && f[0] == kind && f[1] == topic).ToList();

        public async Task ReadyAsync()
        {
            if (await Task.WhenAny(_ready.Task,
                Task.Delay(20_000)) != _ready.Task) throw new TimeoutException($"the DDS peer did not start: {Stderr}");
        }

        /// <summary>Waits for the peer to exit (it ends by itself); its exit code.</summary>
        public async Task<int> ExitAsync(int timeoutMs = 60_000)
        {
            using var cts = new CancellationTokenSource(timeoutMs);
            try { await _p.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the DDS peer did not end: {string.Join("\n", Lines.TakeLast(5))} "
                + $"{Stderr}");
            }
            return _p.ExitCode;
        }

        public void Dispose()
        {
            if (!_p.HasExited) { Signals.Send(_p.Id, Signals.SIGCONT); _p.Kill(true); }
            _p.Dispose();
        }
    }
}
