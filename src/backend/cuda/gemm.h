#pragma once
// Records a cuBLAS GEMM on the stream: C = A^T * B in cuBLAS's column-major terms, which for
// anychip's row-major tensors is y[t][j] = dot(w row j, x row t) with A = the weight rows
// (k = cols elements each, lda apart), B = the activation rows (ldb apart), C = the output rows
// (ldc apart). f16 or bf16 operands accumulate in f32; f32 operands run a true f32 SGEMM (no TF32).
#include <library_types.h>

#include <cstdint>

#include "backend/cuda/stream.h"

namespace anychip::cuda {

struct GemmOperands {
  const void* a;
  const void* b;
  float* c;
  int64_t lda;
  int64_t ldb;
  int64_t ldc;
  int64_t m;  // weight rows
  int64_t n;  // tokens
  int64_t k;  // columns
  int32_t a_type;  // cudaDataType_t
  int32_t b_type;
};

static_assert(sizeof(GemmOperands) == 3 * 8 + 6 * 8 + 2 * 4, "no padding: the bytes are the launch's identity");

void record_gemm(Stream& stream, const GemmOperands& g);

}  // namespace anychip::cuda
