#include "backend/cuda/cuda_check.h"

#include <string>

#include "util/error.h"

namespace anychip::cuda {

void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the device stays usable after a caught throw
  throw Error(std::string("cuda: ") + what + ": " + cudaGetErrorString(status));
}

void check(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(std::string("cuda: ") + what + ": cuBLAS " + cublasGetStatusString(status));
}

void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace anychip::cuda
