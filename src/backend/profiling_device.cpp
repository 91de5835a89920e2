#include "backend/profiling_device.h"

#include <algorithm>

#include "gguf/ggml_type.h"

namespace anychip::backend {

ProfilingDevice::ProfilingDevice(Device& inner) : inner_(inner), since_(Clock::now()) {}

template <class F>
void ProfilingDevice::timed(const std::string& name, F&& op, const std::string& shape, double weight_bytes) {
  if (!recording_) {
    op();
    return;
  }
  const auto t0 = Clock::now();
  op();
  inner_.synchronize();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.name == name && e.shape == shape; });
  if (it == entries_.end()) it = entries_.insert(entries_.end(), Entry{name, shape});
  ++it->calls;
  it->seconds += seconds;
  it->weight_bytes += weight_bytes;
}

static std::string matmul_name(const Tensor& w) {
  return std::string("matmul ") + type_traits(w.type).name + (w.layout == Layout::DevicePacked ? " packed" : "");
}

static std::string shape_of(const Tensor& w) { return std::to_string(w.rows) + "x" + std::to_string(w.cols); }

// A packed copy holds the same bytes in another order, so the file's row size counts for both.
static double weight_bytes(const Tensor& w) {
  return static_cast<double>(row_bytes(w.type, w.cols)) * static_cast<double>(w.rows);
}

std::vector<ProfilingDevice::Entry> ProfilingDevice::entries() const {
  std::vector<Entry> out = entries_;
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return out;
}

double ProfilingDevice::wall_seconds() const {
  return wall_seconds_ + (recording_ ? std::chrono::duration<double>(Clock::now() - since_).count() : 0.0);
}

void ProfilingDevice::set_recording(bool on) {
  if (on == recording_) return;
  if (recording_) wall_seconds_ += std::chrono::duration<double>(Clock::now() - since_).count();
  recording_ = on;
  since_ = Clock::now();
}

void ProfilingDevice::get_rows(const Tensor& table, std::span<const int32_t> ids, const Tensor& out) {
  timed("get_rows", [&] { inner_.get_rows(table, ids, out); });
}
void ProfilingDevice::matmul(const Tensor& w, const Tensor& x, const Tensor& y) {
  timed(matmul_name(w), [&] { inner_.matmul(w, x, y); }, shape_of(w), weight_bytes(w));
}
void ProfilingDevice::matmul_same_input(std::span<const Tensor> ws, const Tensor& x, std::span<const Tensor> ys) {
  std::string name = "matmul_same_input";
  std::string shape;
  double bytes = 0;
  for (const Tensor& w : ws) {
    name += " " + std::string(type_traits(w.type).name);
    shape += (shape.empty() ? "" : "+") + shape_of(w);
    bytes += weight_bytes(w);
  }
  timed(name, [&] { inner_.matmul_same_input(ws, x, ys); }, shape, bytes);
}
void ProfilingDevice::rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& y) {
  timed("rms_norm", [&] { inner_.rms_norm(x, weight, eps, y); });
}
void ProfilingDevice::rope(const Tensor& x, std::span<const int32_t> positions, const RopeParams& p) {
  timed("rope", [&] { inner_.rope(x, positions, p); });
}
void ProfilingDevice::attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                                std::span<const int32_t> positions, const KvPages& pages, const AttentionParams& p,
                                const Tensor& out) {
  timed("attention", [&] { inner_.attention(q, k_cache, v_cache, positions, pages, p, out); });
}
void ProfilingDevice::store_rows(const Tensor& src, std::span<const int32_t> cache_rows, const Tensor& cache) {
  timed("store_rows", [&] { inner_.store_rows(src, cache_rows, cache); });
}
void ProfilingDevice::swiglu(const Tensor& gate, const Tensor& up, const Tensor& out) {
  timed("swiglu", [&] { inner_.swiglu(gate, up, out); });
}
void ProfilingDevice::add(const Tensor& x, const Tensor& y) {
  timed("add", [&] { inner_.add(x, y); });
}
void ProfilingDevice::add_bias(const Tensor& bias, const Tensor& y) {
  timed("add_bias", [&] { inner_.add_bias(bias, y); });
}
void ProfilingDevice::rope_and_store(const Tensor& q, const Tensor& k, const Tensor& v, std::span<const int32_t> positions,
                                     const RopeParams& p, std::span<const int32_t> cache_rows, const Tensor& k_cache,
                                     const Tensor& v_cache) {
  timed("rope_and_store", [&] { inner_.rope_and_store(q, k, v, positions, p, cache_rows, k_cache, v_cache); });
}
void ProfilingDevice::argmax_rows(const Tensor& x, std::span<int32_t> out) {
  timed("argmax_rows", [&] { inner_.argmax_rows(x, out); });
}

}  // namespace anychip::backend
