#pragma once
// Plain scalar implementations of every op, written for obviousness rather than speed. The fast
// kernels of each backend are tested against these.
#include <cstdint>
#include <span>

#include "backend/device.h"

namespace anychip::ref {

// The format activations are rounded to before a dot product with weights of `weight_type`, as
// llama.cpp's CPU backend does (8-bit blocks for quantized weights, f16/bf16 for half weights).
// Rounding the same way keeps our logits within a small fraction of the reference tolerances.
GgmlType activation_type_for(GgmlType weight_type);
// out = x passed through act_type and back (a plain copy for F32). n: multiple of the block size.
// For Q8_1, sum_corrections (n/32 floats) receives per block s - d*sum(q): llama.cpp stores the
// block sum s separately (rounded to f16) and uses it for the weights' min term.
void round_activations(GgmlType act_type, const float* x, float* out, int64_t n, float* sum_corrections);
// What the min term of a Q4_1/Q5_1 row adds on top of dot(dequantized row, rounded x) when the
// block sums are used as llama.cpp uses them; 0 for other types.
float min_term_correction(GgmlType weight_type, const uint8_t* w_row, int64_t n, const float* sum_corrections);

// Converts n elements of any dequantizable type to f32.
void to_f32(GgmlType type, const void* src, float* dst, int64_t n);
float dot_f32(const float* a, const float* b, int64_t n);
// y[j] = dot(w row j, x) for j in [row_begin, row_end); w rows are row_bytes apart.
void matvec(GgmlType type, const uint8_t* w, size_t row_bytes, int64_t cols, const float* x,
            float* y, int64_t row_begin, int64_t row_end);
void rms_norm(const float* x, const float* weight, float eps, float* y, int64_t n);
void rope(float* head, int32_t position, const backend::RopeParams& p);
// rope in two steps, for rotating many heads at one position: the head_dim / 2 cosines and sines
// once, then each head. rope(head, position, p) is exactly these two.
void rope_angles(int32_t position, const backend::RopeParams& p, float* cos_out, float* sin_out);
void rope_rotate(float* head, const float* cos_in, const float* sin_in, const backend::RopeParams& p);
void swiglu(const float* gate, const float* up, float* out, int64_t n);
// One query head of one query against `n_keys` cached keys/values (f16 or f32 cache rows).
// Key/value i lives in cache row blocks[i / block_size] * block_size + i % block_size.
void attention_head(const float* q, const uint8_t* k_cache, const uint8_t* v_cache, GgmlType cache_type,
                    size_t cache_row_bytes, int64_t kv_offset_elems, const int32_t* blocks, int block_size,
                    int head_dim, int64_t n_keys, float scale, float* out);

}  // namespace anychip::ref
