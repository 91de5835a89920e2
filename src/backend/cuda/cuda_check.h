#pragma once
// CUDA runtime and cuBLAS status codes to anychip::Error ("cuda: <what>: <reason>").
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace anychip::cuda {

void check(cudaError_t status, const char* what);
void check(cublasStatus_t status, const char* what);
// After a kernel launch: reports a failed launch (bad configuration, no code for this GPU).
void check_launch(const char* kernel);

}  // namespace anychip::cuda
