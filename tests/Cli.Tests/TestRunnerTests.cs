using System.Text.RegularExpressions;

namespace RealtimeMtl.Cli.Tests;

/// <summary>
/// tests/run-tests.sh, the runner behind ./rtmtl test and CI: a test host that dies must not hide. It runs the
/// fixture project tests/fixtures/CrashingHost, whose third test kills its host in crash mode.
/// </summary>
public class TestRunnerTests
{
    private static (int Code, string Output) RunRunner(bool crash)
    {
        var results = Directory.CreateTempSubdirectory("rtmtl-runner-").FullName;
        try
        {
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Engine.Root };
            psi.ArgumentList.Add(Path.Combine(Engine.Root, "tests", "run-tests.sh"));
            psi.ArgumentList.Add("Release");
            psi.Environment["RTMTL_TEST_PROJECTS"] = Path.Combine(Engine.Root, "tests", "fixtures", "CrashingHost", "CrashingHost.Tests.csproj");
            psi.Environment["RTMTL_TEST_RESULTS"] = results;
            psi.Environment["RTMTL_CRASH_FIXTURE"] = crash ? "1" : "0";
            psi.Environment.Remove("RTMTL_TEST_TRACE"); // this test's own host is traced; the fixture gets its own file
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException("run-tests.sh did not finish"); }
            p.WaitForExit();
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        finally { Directory.Delete(results, true); }
    }

    [Fact]
    public void A_crashed_test_host_is_named_and_the_tests_it_never_ran_are_counted()
    {
        var (code, output) = RunRunner(crash: true);
        Assert.NotEqual(0, code);
        var last = output.TrimEnd().Split('\n')[^1];
        Assert.Equal("2 passed, 0 failed, 3 not run (test host crashed in CrashingHost.Tests)", last);
        // A crashed host runs once more, said so; it crashed again, so the crash counts.
        Assert.Contains("!! running CrashingHost.Tests once more (a crashed host, not a failed test)", output);
        Assert.Matches(new
            Regex(@"crashed while running CrashingHost\.Tests\.CrashingTests\.(First|Second|Third|Fourth|Fifth); 3 of its 5 tests never ran"),
                output);
    }

    [Fact]
    public void The_same_project_without_a_crash_ends_with_the_plain_line_and_exit_0()
    {
        var (code, output) = RunRunner(crash: false);
        Assert.Equal(0, code);
        Assert.Equal("5 passed, 0 failed", output.TrimEnd().Split('\n')[^1]);
    }
}
