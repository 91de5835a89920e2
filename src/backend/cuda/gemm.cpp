#include "backend/cuda/gemm.h"

#include <cublas_v2.h>

#include <limits>
#include <string>
#include <string_view>

#include "util/error.h"

namespace anychip::cuda {

void record_gemm(Stream& stream, const GemmOperands& g) {
  for (int64_t v : {g.lda, g.ldb, g.ldc, g.m, g.n, g.k}) {
    if (v > std::numeric_limits<int>::max()) throw Error("cuda: matmul dimension " + std::to_string(v) + " is too large for cuBLAS");
  }
  const std::string_view key(reinterpret_cast<const char*>(&g), sizeof g);
  stream.record_blas(key, [g](cublasHandle_t handle) {
    const float one = 1.0f, zero = 0.0f;
    check(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(g.m), static_cast<int>(g.n),
                       static_cast<int>(g.k), &one, g.a, static_cast<cudaDataType_t>(g.a_type), static_cast<int>(g.lda),
                       g.b, static_cast<cudaDataType_t>(g.b_type), static_cast<int>(g.ldb), &zero, g.c, CUDA_R_32F,
                       static_cast<int>(g.ldc), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx");
  });
}

}  // namespace anychip::cuda
