using System.Reflection;
using Xunit.Sdk;

[assembly: RealtimeMtl.Tests.Shared.TestProgressTrace]

namespace RealtimeMtl.Tests.Shared;

/// <summary>
/// When RTMTL_TEST_TRACE names a file, every test appends "start Class.Method" before it runs and "end ..." after,
/// flushed at once. A test host that dies (LibTorch's SIGFPE, say) loses the results it had not reported yet; this
/// file still says which test was running and how many had finished, so tests/run-tests.sh can name the crash and
/// count the tests that never ran. Compiled into every test project by tests/Directory.Build.targets.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class TestProgressTraceAttribute : BeforeAfterTestAttribute
{
    private static readonly object Gate = new();
    private static readonly StreamWriter? Writer = Open();

    public override void Before(MethodInfo methodUnderTest) => Write("start", methodUnderTest);

    public override void After(MethodInfo methodUnderTest) => Write("end", methodUnderTest);

    private static void Write(string what, MethodInfo m)
    {
        if (Writer is null) return;
        lock (Gate)
        {
            Writer.WriteLine($"{what} {m.DeclaringType?.FullName}.{m.Name}");
            Writer.Flush();
        }
    }

    private static StreamWriter? Open()
    {
        var path = Environment.GetEnvironmentVariable("RTMTL_TEST_TRACE");
        if (string.IsNullOrEmpty(path)) return null;
        return new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = false };
    }
}
