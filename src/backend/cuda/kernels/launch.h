#pragma once
// The host-side entry points of the CUDA kernels (kernels/*.cu): one argument struct and one
// launch function per kernel family. Argument structs are plain bytes with no padding: the
// stream records them as the identity of a launch, and a CUDA graph is replayed only for a
// byte-identical sequence of launches (see stream.h). Strides of f32 tensors are in floats,
// of weight rows and caches in bytes.
#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/kernels/block_math.h"
#include "gguf/ggml_type.h"

namespace anychip::cuda::kernels {

// Largest token count the matrix-vector kernels take; bigger batches go through cuBLAS.
inline constexpr int kMatvecMaxTokens = 8;
// Largest head_dim the attention kernel handles (8 dimensions per lane of a warp).
inline constexpr int kAttentionMaxHeadDim = 256;
// Query rows of one sequence that the prefill attention kernel processes together.
inline constexpr int kAttentionTileRows = 8;

struct GetRowsArgs {
  const uint8_t* table;
  const int32_t* ids;
  float* out;
  uint64_t table_stride;
  uint64_t out_stride;
  int64_t cols;
  int32_t n_ids;
  uint32_t type;  // GgmlType
};
void get_rows(const GetRowsArgs& a, cudaStream_t s);

// Rounds f32 activations to 8-bit chunks of 32 (blocks::quantize_chunk): xq holds rows * cols
// quants, meta rows * cols/32 chunk headers.
struct QuantizeArgs {
  const float* x;
  int8_t* xq;
  blocks::XChunk* meta;
  uint64_t x_stride;
  int64_t cols;
  int64_t rows;
};
void quantize_activations(const QuantizeArgs& a, cudaStream_t s);

// Weight matrices one matvec launch multiplies with the same activations (q/k/v, gate/up): one
// launch instead of one per matrix, since at batch 1 a launch costs about as much as a small
// matrix's read.
inline constexpr int kMatvecMaxParts = 3;
struct MatvecPart {
  const uint8_t* w;
  float* y;
  uint64_t w_stride;
  int64_t rows;
};

// y[t][j] = dot(w row j, x row t) for up to kMatvecMaxTokens tokens, weights read once; for
// every part, all of the same weight type and width.
struct MatvecArgs {
  MatvecPart part[kMatvecMaxParts];
  const float* x;                // float weights: f32 activations
  const int8_t* xq;              // quantized weights: activations from quantize_activations
  const blocks::XChunk* meta;
  uint64_t x_stride;
  uint64_t y_stride;
  int64_t cols;
  int32_t tokens;
  uint32_t type;
  int32_t parts;
  uint32_t unused;
};
void matvec(const MatvecArgs& a, cudaStream_t s);

// Weight rows expanded to f16 (row-major, cols per row), the A operand of a cuBLAS GEMM.
struct DequantizeArgs {
  const uint8_t* w;
  uint16_t* out;
  uint64_t w_stride;
  int64_t rows;
  int64_t cols;
  uint32_t type;
  uint32_t unused;
};
void dequantize_f16(const DequantizeArgs& a, cudaStream_t s);

// f32 activation rows to contiguous f16 or bf16 rows (the B operand of a GEMM).
struct ConvertArgs {
  const float* x;
  uint16_t* out;
  uint64_t x_stride;
  int64_t cols;
  int64_t rows;
  uint32_t to_bf16;
  uint32_t unused;
};
void convert_activations(const ConvertArgs& a, cudaStream_t s);

// With xq set (one group per row, cols a multiple of 32, y apart from x) the output is also
// rounded to 8-bit chunks, as quantize_activations would round it, for the matmul that follows.
struct RmsNormArgs {
  int8_t* xq;
  blocks::XChunk* meta;
  const float* x;
  const uint8_t* weight;
  float* y;
  uint64_t x_stride;
  uint64_t y_stride;
  int64_t rows;
  int32_t n;       // elements per normalized group
  int32_t groups;  // groups per row
  uint32_t weight_type;
  float eps;
};
void rms_norm(const RmsNormArgs& a, cudaStream_t s);

struct RopeArgs {
  float* x;
  const int32_t* positions;
  const float* freq_factors;  // head_dim/2 values or null
  uint64_t x_stride;
  int64_t rows;
  int32_t heads;
  int32_t head_dim;
  uint32_t neox;
  float theta_scale;  // theta^(-2/head_dim), computed on the host as the CPU reference does
  float freq_scale;
  uint32_t unused;
};
void rope(const RopeArgs& a, cudaStream_t s);

// rope on q and k, then k and v into their caches, in one launch: grid (row, head) over the q
// heads, then the k heads (rotated, written back and stored), then the v heads (stored).
struct RopeStoreArgs {
  float* q;
  float* k;
  const float* v;
  const int32_t* positions;
  const float* freq_factors;  // head_dim/2 values or null
  const int32_t* cache_rows;
  uint8_t* k_cache;
  uint8_t* v_cache;
  uint64_t q_stride;  // floats
  uint64_t k_stride;
  uint64_t v_stride;
  uint64_t k_cache_stride;  // bytes
  uint64_t v_cache_stride;
  int64_t rows;
  int32_t q_heads;
  int32_t kv_heads;
  int32_t head_dim;
  uint32_t neox;
  float theta_scale;
  float freq_scale;
  uint32_t k_f16;
  uint32_t v_f16;
};
void rope_and_store(const RopeStoreArgs& a, cudaStream_t s);

// Causal attention over the paged cache; see backend::Device::attention. `tiles` lists
// (first row, row count) pairs of rows of one sequence processed together, or is null for one
// row per tile.
struct AttentionArgs {
  const float* q;
  const uint8_t* k;
  const uint8_t* v;
  float* out;
  const int32_t* positions;
  const int32_t* row_seq;
  const int32_t* block_table;
  const int32_t* tiles;
  uint64_t q_stride;
  uint64_t out_stride;
  uint64_t kv_stride;  // bytes
  int32_t n_tiles;
  int32_t n_head;
  int32_t group;       // query heads per key/value head
  int32_t head_dim;
  int32_t block_size;
  int32_t max_blocks;
  float scale;
  uint32_t f16_cache;
};
void attention(const AttentionArgs& a, cudaStream_t s);

struct StoreRowsArgs {
  const float* src;
  const int32_t* cache_rows;
  uint8_t* cache;
  uint64_t src_stride;
  uint64_t cache_stride;  // bytes
  int64_t cols;
  int64_t rows;
  uint32_t f16_cache;
  uint32_t unused;
};
void store_rows(const StoreRowsArgs& a, cudaStream_t s);

// With xq set (cols a multiple of 32) the output is also rounded to 8-bit chunks.
struct SwigluArgs {
  int8_t* xq;
  blocks::XChunk* meta;
  const float* gate;
  const float* up;
  float* out;
  uint64_t gate_stride;
  uint64_t up_stride;
  uint64_t out_stride;
  int64_t cols;
  int64_t rows;
};
void swiglu(const SwigluArgs& a, cudaStream_t s);

struct AddArgs {
  const float* x;
  float* y;
  uint64_t x_stride;
  uint64_t y_stride;
  int64_t cols;
  int64_t rows;
};
void add(const AddArgs& a, cudaStream_t s);

struct AddBiasArgs {
  const uint8_t* bias;
  float* y;
  uint64_t y_stride;
  int64_t cols;
  int64_t rows;
  uint32_t bias_type;
  uint32_t unused;
};
void add_bias(const AddBiasArgs& a, cudaStream_t s);

// out[r] = the first column of row r's largest value. Two passes: kArgmaxSlices blocks per row
// each reduce a slice into `partial` (a value and a column per slice), then one block per row
// reduces those; one block alone would walk a vocabulary-sized row mostly waiting on memory.
inline constexpr int kArgmaxSlices = 64;
struct ArgmaxArgs {
  const float* x;
  int32_t* out;
  float* partial_value;  // rows * kArgmaxSlices
  int32_t* partial_at;   // rows * kArgmaxSlices
  uint64_t x_stride;
  int64_t cols;
  int64_t rows;
};
void argmax_rows(const ArgmaxArgs& a, cudaStream_t s);

// No padding (each size is the sum of its members'), so equal launches have equal bytes.
static_assert(sizeof(GetRowsArgs) == 3 * 8 + 3 * 8 + 2 * 4);
static_assert(sizeof(QuantizeArgs) == 3 * 8 + 3 * 8);
static_assert(sizeof(MatvecPart) == 4 * 8);
static_assert(sizeof(MatvecArgs) == kMatvecMaxParts * sizeof(MatvecPart) + 3 * 8 + 3 * 8 + 4 * 4);
static_assert(sizeof(DequantizeArgs) == 2 * 8 + 3 * 8 + 2 * 4);
static_assert(sizeof(ConvertArgs) == 2 * 8 + 3 * 8 + 2 * 4);
static_assert(sizeof(RmsNormArgs) == 5 * 8 + 3 * 8 + 4 * 4);
static_assert(sizeof(RopeArgs) == 3 * 8 + 2 * 8 + 6 * 4);
static_assert(sizeof(AttentionArgs) == 8 * 8 + 3 * 8 + 8 * 4);
static_assert(sizeof(StoreRowsArgs) == 3 * 8 + 4 * 8 + 2 * 4);
static_assert(sizeof(SwigluArgs) == 5 * 8 + 5 * 8);
static_assert(sizeof(AddArgs) == 2 * 8 + 4 * 8);
static_assert(sizeof(AddBiasArgs) == 2 * 8 + 3 * 8 + 2 * 4);
static_assert(sizeof(ArgmaxArgs) == 4 * 8 + 3 * 8);
static_assert(sizeof(RopeStoreArgs) == 8 * 8 + 6 * 8 + 8 * 4);

// Reads `bytes` (a multiple of 16) so the read cannot be optimized away; for the bandwidth probe.
void read_probe(const void* data, uint64_t bytes, uint32_t* sink, cudaStream_t s);
// A trivial kernel: fails to launch when the binary has no code for the current GPU.
void noop(cudaStream_t s);

}  // namespace anychip::cuda::kernels
