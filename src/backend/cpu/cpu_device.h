#pragma once
#include <functional>
#include <memory>

#include <vector>

#include "backend/cpu/kernels/matmul_kernels.h"
#include "backend/cpu/kernels/row_kernels.h"
#include "backend/cpu/next_read_predictor.h"
#include "backend/cpu/rope_angle_cache.h"
#include "backend/cpu/thread_pool.h"
#include "backend/device.h"

namespace anychip::cpu {

class CpuDevice final : public backend::Device {
 public:
  explicit CpuDevice(int threads);

  const backend::DeviceInfo& info() const override { return info_; }
  bool supports(backend::Op op, GgmlType type) const override;
  std::unique_ptr<backend::Buffer> alloc(size_t bytes) override;
  std::unique_ptr<backend::Buffer> import_host(const void* data, size_t bytes) override;

  PreparedWeight prepare_matmul_weight(const backend::Tensor& w) override;
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
  void swiglu(const backend::Tensor& gate, const backend::Tensor& up, const backend::Tensor& out) override;
  void argmax_rows(const backend::Tensor& x, std::span<int32_t> out) override;
  void add(const backend::Tensor& x, const backend::Tensor& y) override;
  void add_bias(const backend::Tensor& bias, const backend::Tensor& y) override;
  void synchronize() override {}
  double measure_read_bandwidth_gbs() override;

 private:
  void matmul_fast(const MatmulKernels& k, const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y);
  void matmul_reference(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y);
  // Splits `chunks` 16-row chunks of `read` across the pool; each thread, once done, prefetches
  // its part of the matmul predicted to come next.
  void run_matmul_chunks(const NextReadPredictor::Read& read, const std::function<void(int64_t, int64_t)>& fn);

  backend::DeviceInfo info_;
  ThreadPool pool_;
  Isa isa_;
  const RowKernels& row_kernels_;
  std::vector<uint8_t> act_scratch_;  // quantized activations, reused between matmuls
  NextReadPredictor next_read_;
  RopeAngleCache rope_tables_;
};

backend::DeviceInfo describe_host_cpu(int threads);

}  // namespace anychip::cpu
