#pragma once
// backend::Device on an NVIDIA GPU. Ops validate their arguments on the host (throwing
// anychip::Error, as the other backends do), then record kernel launches on the stream (see
// stream.h): decode-sized matmuls run the matrix-vector kernels on the weights' own blocks,
// larger batches dequantize weight tiles to f16 for cuBLAS.
#include <memory>

#include "backend/cuda/device_memory.h"
#include "backend/cuda/kernels/block_math.h"
#include "backend/cuda/stream.h"
#include "backend/device.h"

namespace anychip::cuda {

class CudaDevice final : public backend::Device {
 public:
  explicit CudaDevice(int index);
  ~CudaDevice() override;

  const backend::DeviceInfo& info() const override { return info_; }
  bool supports(backend::Op op, GgmlType type) const override;
  std::unique_ptr<backend::Buffer> alloc(size_t bytes) override;
  std::unique_ptr<backend::Buffer> import_host(const void* data, size_t bytes) override;

  void get_rows(const backend::Tensor& table, std::span<const int32_t> ids, const backend::Tensor& out) override;
  void matmul(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y) override;
  void matmul_same_input(std::span<const backend::Tensor> ws, const backend::Tensor& x,
                         std::span<const backend::Tensor> ys) override;
  void rms_norm(const backend::Tensor& x, const backend::Tensor& weight, float eps, const backend::Tensor& y) override;
  void rope(const backend::Tensor& x, std::span<const int32_t> positions, const backend::RopeParams& p) override;
  void attention(const backend::Tensor& q, const backend::Tensor& k_cache, const backend::Tensor& v_cache,
                 std::span<const int32_t> positions, const backend::KvPages& pages,
                 const backend::AttentionParams& p, const backend::Tensor& out) override;
  void store_rows(const backend::Tensor& src, std::span<const int32_t> cache_rows, const backend::Tensor& cache) override;
  void rope_and_store(const backend::Tensor& q, const backend::Tensor& k, const backend::Tensor& v,
                      std::span<const int32_t> positions, const backend::RopeParams& p,
                      std::span<const int32_t> cache_rows, const backend::Tensor& k_cache,
                      const backend::Tensor& v_cache) override;
  void swiglu(const backend::Tensor& gate, const backend::Tensor& up, const backend::Tensor& out) override;
  void add(const backend::Tensor& x, const backend::Tensor& y) override;
  void add_bias(const backend::Tensor& bias, const backend::Tensor& y) override;
  void argmax_rows(const backend::Tensor& x, std::span<int32_t> out) override;
  void synchronize() override { stream_.flush(); }
  double measure_read_bandwidth_gbs() override;

  const StreamStats& stream_stats() const { return stream_.stats(); }

 private:
  // The device address of a tensor's first byte; throws for a foreign buffer or a tensor that
  // runs past its buffer.
  uint8_t* address(const backend::Tensor& t) const;
  template <class T>
  T* address_as(const backend::Tensor& t) const {
    return reinterpret_cast<T*>(address(t));
  }
  // At least `bytes` of `scratch`; growing it first runs what is recorded (which may use it).
  uint8_t* scratch(DeviceMemory& scratch, size_t bytes);
  void check_matmul(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y) const;
  bool overlaps(const backend::Tensor& x, const backend::Tensor& y) const;
  // Up to kMatvecMaxParts same-typed weights times the same decode-sized activations.
  void matmul_decode(std::span<const backend::Tensor> ws, const backend::Tensor& x, std::span<const backend::Tensor> ys);
  // Where matmul_decode keeps rows x cols activations rounded to 8 bits: the quants, then the
  // chunk headers, in activation_scratch_ (grown first if needed).
  struct Q8Scratch {
    int8_t* xq;
    blocks::XChunk* meta;
  };
  Q8Scratch q8_scratch(int64_t rows, int64_t cols);
  void matmul_batched(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y);

  // The activations last converted for a matmul (8-bit chunks, f16 or bf16) in
  // activation_scratch_. q/k/v and gate/up multiply the same rows: those matmuls convert once.
  // Any op other than a matmul, a matmul writing over its input, or a flush makes it stale.
  enum class ActivationFormat { None, Q8Chunks, F16, BF16 };
  struct ConvertedActivations {
    ActivationFormat format = ActivationFormat::None;
    const float* x = nullptr;
    size_t row_stride = 0;
    int64_t rows = 0, cols = 0;
    uint64_t epoch = 0;
  };
  // True when activation_scratch_ already holds x in `format`.
  bool converted(ActivationFormat format, const backend::Tensor& x) const;
  void remember_converted(ActivationFormat format, const backend::Tensor& x);
  void forget_converted() { converted_.format = ActivationFormat::None; }

  backend::DeviceInfo info_;
  Stream stream_;
  DeviceMemory activation_scratch_;  // quantized or half activations of one matmul
  DeviceMemory weight_scratch_;      // one dequantized weight tile
  DeviceMemory argmax_out_;          // argmax_rows' ids before they go to the host
  ConvertedActivations converted_;
};

}  // namespace anychip::cuda
