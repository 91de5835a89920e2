// The CUDA emulator itself (include/cuda_runtime.h): the GPU behaviour the backend's emulated
// tests rely on. Lanes exchange values through shuffles in lockstep, __syncthreads orders shared
// memory between warps, exited threads leave barriers, invalid launches are refused, and stream
// capture records work that a graph launch replays (and only then).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

namespace {

TEST(CudaEmulator, ShufflesAndBarriersBehaveAsOnAGpu) {
  std::vector<int> out(64, -1);
  int* o = out.data();
  run_grid(dim3(1), dim3(64), 64 * sizeof(int), nullptr, [o] {
    int* shared = static_cast<int*>(dynamic_shared());
    const int t = static_cast<int>(threadIdx.x);
    int v = t;
    for (int m = 16; m > 0; m /= 2) v += __shfl_xor_sync(0xffffffffu, v, m);  // warp sums
    shared[t] = v;
    __syncthreads();
    o[t] = shared[63 - t] + __shfl_sync(0xffffffffu, t, 3);  // the other warp's sum, plus lane 3
  });
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const int warp_sum[2] = {31 * 32 / 2, 32 * 32 + 31 * 32 / 2};
  for (int t = 0; t < 64; ++t) EXPECT_EQ(out[t], warp_sum[1 - t / 32] + (t / 32) * 32 + 3) << t;
}

TEST(CudaEmulator, ExitedThreadsLeaveTheBlockBarrier) {
  std::vector<int> out(4, 0);
  int* o = out.data();
  run_grid(dim3(2), dim3(128), 0, nullptr, [o] {
    if (threadIdx.x >= 64) return;  // two whole warps leave
    __syncthreads();
    if (threadIdx.x == 0) o[blockIdx.x] = static_cast<int>(blockDim.x);
  });
  EXPECT_EQ(out, (std::vector<int>{128, 128, 0, 0}));
}

TEST(CudaEmulator, InvalidLaunchesAreRefused) {
  bool ran = false;
  run_grid(dim3(1), dim3(2048), 0, nullptr, [&] { ran = true; });
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  run_grid(dim3(1, 70000), dim3(32), 0, nullptr, [&] { ran = true; });
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  run_grid(dim3(1), dim3(32), 64 << 10, nullptr, [&] { ran = true; });
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_FALSE(ran);
}

TEST(CudaEmulator, CaptureRecordsAndGraphLaunchReplays) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  int* device = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&device), sizeof(int)), cudaSuccess);
  int host = 5;
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  cudaMemcpyAsync(device, &host, sizeof host, cudaMemcpyHostToDevice, s);
  run_grid(dim3(1), dim3(32), 0, s, [device] {
    if (threadIdx.x == 0) *device *= 2;
  });
  void* more = nullptr;
  EXPECT_EQ(cudaMalloc(&more, 16), cudaErrorStreamCaptureUnsupported) << "allocating inside a capture";
  cudaGetLastError();
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
  EXPECT_EQ(*device, static_cast<int>(0xABABABAB)) << "captured work must not run";
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  host = 21;  // a graph copies from the same address each launch, so it sees the new value
  ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
  EXPECT_EQ(*device, 42);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaFree(device);
  cudaStreamDestroy(s);
}

}  // namespace
