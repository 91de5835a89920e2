#pragma once
// Test-only stand-in for CUDA's <library_types.h> (see cuda_runtime.h here).
namespace cuda_emulator {
enum cudaDataType_t { CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14 };
}
using namespace cuda_emulator;
