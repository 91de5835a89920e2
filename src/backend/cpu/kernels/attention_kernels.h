#pragma once
// Fast attention over an f16 KV cache, numerically the same as ref::attention_head (llama.cpp's
// flash-attention path: query rounded to f16, online softmax, values accumulated in f16) up to
// float summation order in the query-key dot products.
#include <cstddef>
#include <cstdint>

#include "backend/cpu/kernels/matmul_kernels.h"

namespace anychip::cpu {

// n_heads query heads that share one KV head (grouped-query attention), head_dim apart in q and
// in out, against n_keys cached keys: k and v point at the KV head's first element of cache row
// 0; cache rows are row_stride halves apart; key i lives in cache row
// blocks[i / block_size] * block_size + i % block_size. head_dim must be a multiple of 16 and at
// most 256.
using AttentionGroupF16Fn = void (*)(const float* q, int n_heads, const uint16_t* k, const uint16_t* v,
                                     size_t row_stride, const int32_t* blocks, int block_size, int head_dim,
                                     int64_t n_keys, float scale, float* out);

// nullptr when no fast version exists for this ISA and head size.
AttentionGroupF16Fn find_attention_f16(Isa isa, int head_dim);

}  // namespace anychip::cpu
