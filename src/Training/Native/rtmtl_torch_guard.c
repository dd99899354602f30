/*
 * rtmtl_torch_guard: LibTorch objects that .NET's finalizer thread releases are freed after a grace period.
 *
 * TorchSharp 0.107 wraps a native tensor or scalar in a managed object that holds a raw pointer and frees it in its
 * finalizer. The JIT may consider such an object dead as soon as its pointer has been read, so a temporary (the
 * implicit Scalar of `t * 0.5`, the alpha that `a + b` creates inside TorchSharp, the tensor `a + b` in
 * `(a + b).relu()`) can be finalized on the finalizer thread while a native call on another thread still uses it: a
 * use after free (the suite's crash in libtorch_cpu.so, a `lock xadd` on a freed reference count). TorchSharp's own
 * operators create such temporaries, so the fix cannot be made at every call site of ours alone.
 *
 * This library is loaded in place of libLibTorchSharp.so (DllImport resolver, src/Training/Native/TorchFinalizerGuard.cs)
 * and depends on it, so every other symbol resolves to the real library. Its THSTensor_dispose and
 * THSTorch_dispose_scalar pass through at once on every thread but the registered finalizer thread; there, the
 * object is queued and freed once it has waited RTMTL_GRACE_SECONDS, long after any call that could still use it
 * has returned. Only the finalizer thread touches the queue, so it needs no lock. Explicit Dispose and dispose
 * scopes are unaffected: memory that training frees on purpose is freed at once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define CAPACITY 131072
#define RTMTL_GRACE_SECONDS 10.0

typedef void (*dispose_fn)(void *);

struct deferred { void *object; dispose_fn dispose; double at; };

static struct deferred queue[CAPACITY];
static size_t head, count;
static volatile long finalizer_tid;
static volatile long deferred_total, freed_total;
static dispose_fn real_tensor_dispose, real_scalar_dispose;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static dispose_fn next(const char *name)
{
    return (dispose_fn)dlsym(RTLD_NEXT, name);
}

static void release(void *object, dispose_fn dispose)
{
    if (object == NULL || dispose == NULL) return;
    if (finalizer_tid == 0 || syscall(SYS_gettid) != finalizer_tid) { dispose(object); return; }
    double t = now_seconds();
    while (count > 0 && (count == CAPACITY || t - queue[head].at > RTMTL_GRACE_SECONDS))
    {
        queue[head].dispose(queue[head].object);
        head = (head + 1) % CAPACITY;
        count--;
        freed_total++;
    }
    queue[(head + count) % CAPACITY] = (struct deferred){ object, dispose, t };
    count++;
    deferred_total++;
}

/* Called once from a managed finalizer: the thread it runs on is .NET's finalizer thread. */
EXPORT void rtmtl_guard_register_finalizer_thread(void)
{
    finalizer_tid = syscall(SYS_gettid);
}

/* How many objects the finalizer thread handed over, and how many of those were freed after their wait. */
EXPORT long rtmtl_guard_deferred(void) { return deferred_total; }
EXPORT long rtmtl_guard_freed(void) { return freed_total; }

EXPORT void THSTensor_dispose(void *tensor)
{
    if (real_tensor_dispose == NULL) real_tensor_dispose = next("THSTensor_dispose");
    release(tensor, real_tensor_dispose);
}

EXPORT void THSTorch_dispose_scalar(void *scalar)
{
    if (real_scalar_dispose == NULL) real_scalar_dispose = next("THSTorch_dispose_scalar");
    release(scalar, real_scalar_dispose);
}
