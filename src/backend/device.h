#pragma once
// The backend interface: what the model layer needs from any chip. A backend is a Device that
// allocates Buffers and executes a small set of coarse ops on Tensors (views into Buffers), in
// order, as if on one stream; synchronize() waits for all of them. Adding a vendor means a new
// folder under backend/ implementing Device, plus one line in registry.cpp.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "gguf/ggml_type.h"

namespace anychip::backend {

struct DeviceInfo {
  std::string backend;  // "cpu", "cuda", "vulkan"
  std::string name;     // e.g. the CPU model or GPU name
  std::string vendor;
  int index = 0;
  uint64_t memory_bytes = 0;
  int threads = 1;
};

enum class Op { GetRows, MatMul, RmsNorm, Rope, Attention, SwiGlu, Add, AddBias };
const char* op_name(Op op);

class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual size_t size() const = 0;
  // Non-null when the host can address the memory directly (CPU, unified memory).
  virtual void* host_ptr() = 0;
  virtual void write(size_t offset, const void* src, size_t bytes) = 0;
  virtual void read(size_t offset, void* dst, size_t bytes) const = 0;
};

// How a weight's rows are laid out: as in the file, or in a device's own matmul layout (made by
// Device::prepare_matmul_weight; only that device's matmul and get_rows read it).
enum class Layout : uint8_t { Rows, DevicePacked };

// A 2-D view: `rows` rows of `cols` elements of `type`, rows `row_stride` bytes apart.
struct Tensor {
  Buffer* buffer = nullptr;
  size_t offset = 0;
  GgmlType type = GgmlType::F32;
  int64_t cols = 0;
  int64_t rows = 0;
  size_t row_stride = 0;
  Layout layout = Layout::Rows;

  Tensor row_range(int64_t first, int64_t count) const {
    assert(layout == Layout::Rows);
    Tensor t = *this;
    t.offset += static_cast<size_t>(first) * row_stride;
    t.rows = count;
    return t;
  }
  template <class T>
  T* host_row(int64_t r) const {
    return reinterpret_cast<T*>(static_cast<uint8_t*>(buffer->host_ptr()) + offset + static_cast<size_t>(r) * row_stride);
  }
};

enum class RopeStyle { Normal, Neox };  // Normal rotates adjacent pairs; Neox rotates halves

struct RopeParams {
  RopeStyle style = RopeStyle::Normal;
  int head_dim = 0;     // rotated dimensions per head
  float theta = 10000.0f;
  float freq_scale = 1.0f;        // linear position scaling (1 / factor)
  const float* freq_factors = nullptr;  // Llama 3 per-pair divisors (head_dim / 2 values) or null
};

// Where the keys/values of each query row live. A KV cache tensor is a pool of blocks of
// `block_size` rows; sequence s keeps position p in cache row
// block_table[s * max_blocks + p / block_size] * block_size + p % block_size. A plain contiguous
// cache is one block as long as the cache, with a one-entry table.
struct KvPages {
  int block_size = 0;
  int max_blocks = 0;                     // table entries per sequence
  std::span<const int32_t> block_table;   // n_seqs * max_blocks block ids
  std::span<const int32_t> row_seq;       // per query row: the index of its sequence

  int64_t cache_row(int32_t seq, int32_t position) const {
    return static_cast<int64_t>(block_table[static_cast<size_t>(seq) * max_blocks + position / block_size]) * block_size +
           position % block_size;
  }
};

struct AttentionParams {
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  float scale = 1.0f;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const DeviceInfo& info() const = 0;
  virtual bool supports(Op op, GgmlType type) const = 0;

  virtual std::unique_ptr<Buffer> alloc(size_t bytes) = 0;
  // Weights in the memory-mapped model file: a device that can read host memory wraps them
  // without a copy; others upload them.
  virtual std::unique_ptr<Buffer> import_host(const void* data, size_t bytes) = 0;

  // A matmul weight in the layout this device multiplies fastest. A device that makes a copy
  // returns its buffer in `storage`, which the caller keeps as long as it uses `tensor`; the
  // default keeps w as it is.
  struct PreparedWeight {
    Tensor tensor;
    std::unique_ptr<Buffer> storage;
  };
  virtual PreparedWeight prepare_matmul_weight(const Tensor& w) { return {w, nullptr}; }

  // out[i] = table row ids[i], converted to f32.
  virtual void get_rows(const Tensor& table, std::span<const int32_t> ids, const Tensor& out) = 0;
  // y[t][j] = dot(w row j, x row t). w: any supported weight type; x, y: f32.
  virtual void matmul(const Tensor& w, const Tensor& x, const Tensor& y) = 0;
  // ys[i] = matmul(ws[i], x) for every i (Q, K and V; gate and up). A device may run them as one
  // dispatch, converting x once and synchronizing once; results equal separate matmul calls.
  virtual void matmul_same_input(std::span<const Tensor> ws, const Tensor& x, std::span<const Tensor> ys) {
    for (size_t i = 0; i < ws.size(); ++i) matmul(ws[i], x, ys[i]);
  }
  // y = x / rms(x) * weight, per row (rows of `x` may be split into groups of weight.cols).
  virtual void rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& y) = 0;
  // Rotates every head (head_dim-sized slice) of row t by position positions[t], in place.
  virtual void rope(const Tensor& x, std::span<const int32_t> positions, const RopeParams& p) = 0;
  // Causal attention: query row t (at positions[t], of sequence pages.row_seq[t]) attends to its
  // sequence's cached keys/values 0..positions[t], found through the block table.
  virtual void attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                         std::span<const int32_t> positions, const KvPages& pages, const AttentionParams& p,
                         const Tensor& out) = 0;
  // Writes f32 rows `src` into cache rows cache_rows[t] (converting to the cache's type).
  virtual void store_rows(const Tensor& src, std::span<const int32_t> cache_rows, const Tensor& cache) = 0;
  // The attention block's steps between the q/k/v matmuls and attention: rope on q and k, then
  // k and v into their caches. One op, so a device where each launch costs about as much as
  // the work (a GPU at batch 1) can run them as one kernel.
  virtual void rope_and_store(const Tensor& q, const Tensor& k, const Tensor& v, std::span<const int32_t> positions,
                              const RopeParams& p, std::span<const int32_t> cache_rows, const Tensor& k_cache,
                              const Tensor& v_cache) {
    rope(q, positions, p);
    rope(k, positions, p);
    store_rows(k, cache_rows, k_cache);
    store_rows(v, cache_rows, v_cache);
  }
  // out = silu(gate) * up
  virtual void swiglu(const Tensor& gate, const Tensor& up, const Tensor& out) = 0;
  // y += x
  virtual void add(const Tensor& x, const Tensor& y) = 0;
  // y[t] += bias (bias: one f32-convertible row)
  virtual void add_bias(const Tensor& bias, const Tensor& y) = 0;
  // out[r] = the column of row r's largest value (the first one on ties), for greedy sampling
  // without bringing whole rows of logits to the host. Waits for the result. The default reads
  // the rows back; a device with its own reduction overrides it.
  virtual void argmax_rows(const Tensor& x, std::span<int32_t> out);

  virtual void synchronize() = 0;

  // The device memory's achievable read bandwidth in GB/s, measured (0 when unknown). The
  // roofline that memory-bound generation is judged against.
  virtual double measure_read_bandwidth_gbs() { return 0.0; }
};

}  // namespace anychip::backend
