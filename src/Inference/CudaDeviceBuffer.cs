using System.Runtime.InteropServices;

namespace RealtimeMtl.Inference;

/// <summary>
/// One block of GPU memory from the CUDA runtime (libcudart.so.13, the version the GPU build of ONNX Runtime
/// needs), with synchronous copies to and from host memory. Used by the IOBinding and CUDA-graph paths, whose
/// input and output tensors must live on the device at fixed addresses.
/// </summary>
internal sealed class CudaDeviceBuffer : IDisposable
{
    private const string CudaRuntime = "libcudart.so.13";
    private const int HostToDevice = 1, DeviceToHost = 2;

    public CudaDeviceBuffer(long bytes)
    {
        Bytes = bytes;
        Check(cudaMalloc(out var p, (nuint)bytes), "cudaMalloc");
        Pointer = p;
    }

    public IntPtr Pointer { get; private set; }
    public long Bytes { get; }

    public void CopyFromHost(IntPtr host) => Check(cudaMemcpy(Pointer, host, (nuint)Bytes, HostToDevice), "cudaMemcpy host->device");
    public void CopyToHost(IntPtr host) => Check(cudaMemcpy(host, Pointer, (nuint)Bytes, DeviceToHost), "cudaMemcpy device->host");

    public void Dispose()
    {
        if (Pointer == IntPtr.Zero) return;
        _ = cudaFree(Pointer);
        Pointer = IntPtr.Zero;
    }

    private static void Check(int code, string what)
    {
        if (code != 0) throw new InvalidOperationException($"{what} failed with CUDA error {code}");
    }

    [DllImport(CudaRuntime)] private static extern int cudaMalloc(out IntPtr devPtr, nuint size);
    [DllImport(CudaRuntime)] private static extern int cudaFree(IntPtr devPtr);
    [DllImport(CudaRuntime)] private static extern int cudaMemcpy(IntPtr dst, IntPtr src, nuint count, int kind);
}
