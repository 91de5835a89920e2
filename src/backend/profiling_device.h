#pragma once
// A Device that forwards every op to another device and times it (synchronizing after each, so
// an asynchronous device's op is charged to itself). `anychip bench --profile` uses it to show
// where a decode step's time goes; the cost is one clock read and one synchronize per op.
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "backend/device.h"

namespace anychip::backend {

class ProfilingDevice final : public Device {
 public:
  // What the profile is broken down by: the ops, with matmuls split by weight type and shape
  // (rows x cols of each matrix), so each matmul line can say how fast it read its weights.
  struct Entry {
    std::string name;
    std::string shape;      // matmuls only: "2048x8192", or "2048x2048+512x2048" for a group
    int64_t calls = 0;
    double seconds = 0;
    double weight_bytes = 0;  // bytes of weights the calls read (matmuls only)
  };

  explicit ProfilingDevice(Device& inner);

  // Entries with at least one call, most time first.
  std::vector<Entry> entries() const;
  // Wall time while recording: the ops' time plus everything between them.
  double wall_seconds() const;
  // Only ops run while recording are timed; others are forwarded untimed. Off at first.
  void set_recording(bool on);

  const DeviceInfo& info() const override { return inner_.info(); }
  bool supports(Op op, GgmlType type) const override { return inner_.supports(op, type); }
  std::unique_ptr<Buffer> alloc(size_t bytes) override { return inner_.alloc(bytes); }
  std::unique_ptr<Buffer> import_host(const void* data, size_t bytes) override { return inner_.import_host(data, bytes); }
  PreparedWeight prepare_matmul_weight(const Tensor& w) override { return inner_.prepare_matmul_weight(w); }
  void get_rows(const Tensor& table, std::span<const int32_t> ids, const Tensor& out) override;
  void matmul(const Tensor& w, const Tensor& x, const Tensor& y) override;
  void matmul_same_input(std::span<const Tensor> ws, const Tensor& x, std::span<const Tensor> ys) override;
  void rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& y) override;
  void rope(const Tensor& x, std::span<const int32_t> positions, const RopeParams& p) override;
  void attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, std::span<const int32_t> positions,
                 const KvPages& pages, const AttentionParams& p, const Tensor& out) override;
  void store_rows(const Tensor& src, std::span<const int32_t> cache_rows, const Tensor& cache) override;
  void rope_and_store(const Tensor& q, const Tensor& k, const Tensor& v, std::span<const int32_t> positions,
                      const RopeParams& p, std::span<const int32_t> cache_rows, const Tensor& k_cache,
                      const Tensor& v_cache) override;
  void swiglu(const Tensor& gate, const Tensor& up, const Tensor& out) override;
  void add(const Tensor& x, const Tensor& y) override;
  void add_bias(const Tensor& bias, const Tensor& y) override;
  void argmax_rows(const Tensor& x, std::span<int32_t> out) override;
  void synchronize() override { inner_.synchronize(); }
  double measure_read_bandwidth_gbs() override { return inner_.measure_read_bandwidth_gbs(); }

 private:
  using Clock = std::chrono::steady_clock;
  template <class F>
  void timed(const std::string& name, F&& op, const std::string& shape = {}, double weight_bytes = 0);

  Device& inner_;
  std::vector<Entry> entries_;
  bool recording_ = false;
  Clock::time_point since_;
  double wall_seconds_ = 0;
};

}  // namespace anychip::backend
