// Row-wise and element-wise ops on f32 activations: rms_norm, rope, swiglu, add, add_bias.
#include <cstring>
#include <string>

#include "backend/vulkan/rope_table.h"
#include "backend/vulkan/vulkan_device.h"

namespace anychip::vulkan {
namespace {

constexpr uint32_t kRowWorkgroup = 64;
// rms_norm over rows this wide (a decode step's hidden state: one row, one workgroup) uses
// kWideRowWorkgroup invocations so each reads a few elements instead of dozens in a row.
constexpr int64_t kWideRow = 1024;
constexpr uint32_t kWideRowWorkgroup = 256;
constexpr uint32_t kElementWorkgroup = 256;

uint32_t u32(size_t v) { return static_cast<uint32_t>(v); }

void require_f32(const backend::Tensor& t, const char* op) {
  if (t.type != GgmlType::F32 || t.row_stride % 4 != 0 || t.offset % 4 != 0) {
    throw Error(std::string("vulkan: ") + op + ": expects f32 rows");
  }
}

void require_half_or_f32_row(const backend::Tensor& t, const char* op) {
  const bool ok = (t.type == GgmlType::F32 && t.offset % 4 == 0) ||
                  ((t.type == GgmlType::F16 || t.type == GgmlType::BF16) && t.offset % 2 == 0);
  if (!ok) throw Error(std::string("vulkan: ") + op + ": unsupported weight type " + std::string(type_name(t.type)));
}

uint64_t element_groups(int64_t rows, int64_t cols) {
  return (static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols) + kElementWorkgroup - 1) / kElementWorkgroup;
}

}  // namespace

void VulkanDevice::rms_norm(const backend::Tensor& x, const backend::Tensor& weight, float eps, const backend::Tensor& y) {
  require_f32(x, "rms_norm");
  require_f32(y, "rms_norm");
  require_half_or_f32_row(weight, "rms_norm");
  if (weight.cols <= 0 || x.cols % weight.cols != 0 || y.cols != x.cols || y.rows < x.rows) {
    throw Error("vulkan: rms_norm: mismatched shapes");
  }
  const Bound bw = bind(weight.row_range(0, 1)), bx = bind(x), by = bind(y);
  const int64_t groups = x.cols / weight.cols;
  struct {
    uint32_t w_off, x_off, x_stride, y_off, y_stride, n, groups, rows;
    float eps;
  } push = {bw.rel, bx.rel / 4, u32(x.row_stride / 4), by.rel / 4, u32(y.row_stride / 4), u32(weight.cols),
            u32(groups), u32(x.rows), eps};
  const uint32_t wg = weight.cols >= kWideRow ? kWideRowWorkgroup : kRowWorkgroup;
  run("rms_norm", {wg, static_cast<uint32_t>(weight.type)}, {bw, bx, by}, push,
      static_cast<uint64_t>(groups * x.rows));
}

void VulkanDevice::rope(const backend::Tensor& x, std::span<const int32_t> positions, const backend::RopeParams& p) {
  require_f32(x, "rope");
  if (p.head_dim <= 0 || p.head_dim % 2 != 0 || x.cols % p.head_dim != 0 ||
      static_cast<int64_t>(positions.size()) != x.rows) {
    throw Error("vulkan: rope: head_dim " + std::to_string(p.head_dim) + " does not fit rows of " + std::to_string(x.cols));
  }
  if (x.rows == 0) return;
  // q and k of every layer use the same positions: compute and upload the angles once per batch.
  const int half = p.head_dim / 2;
  std::vector<float> key = {static_cast<float>(p.head_dim), p.theta, p.freq_scale};
  if (p.freq_factors) key.insert(key.end(), p.freq_factors, p.freq_factors + half);
  RopeCache& c = rope_cache_;
  if (c.epoch != stream_.epoch() || c.params != key ||
      !std::equal(positions.begin(), positions.end(), c.positions.begin(), c.positions.end())) {
    const std::vector<float> table = rope_table(positions, p);
    c.range = stream_.upload(table.data(), table.size() * sizeof(float));
    c.positions.assign(positions.begin(), positions.end());
    c.params = std::move(key);
    c.epoch = stream_.epoch();
  }
  const Bound bx = bind(x), bt = stream_.bind(c.range);
  struct {
    uint32_t x_off, x_stride, tab_off, rows, heads, n_pairs, head_dim, neox;
  } push = {bx.rel / 4, u32(x.row_stride / 4), bt.rel / 4, u32(x.rows), u32(x.cols / p.head_dim), u32(half),
            u32(p.head_dim), p.style == backend::RopeStyle::Neox ? 1u : 0u};
  run("rope", {kElementWorkgroup}, {bx, bt}, push, element_groups(x.rows, x.cols / 2));
}

void VulkanDevice::swiglu(const backend::Tensor& gate, const backend::Tensor& up, const backend::Tensor& out) {
  require_f32(gate, "swiglu");
  require_f32(up, "swiglu");
  require_f32(out, "swiglu");
  if (up.cols != gate.cols || out.cols != gate.cols || up.rows < gate.rows || out.rows < gate.rows) {
    throw Error("vulkan: swiglu: mismatched shapes");
  }
  const Bound bg = bind(gate), bu = bind(up), bo = bind(out);
  struct {
    uint32_t g_off, g_stride, u_off, u_stride, o_off, o_stride, cols, rows;
  } push = {bg.rel / 4, u32(gate.row_stride / 4), bu.rel / 4, u32(up.row_stride / 4), bo.rel / 4, u32(out.row_stride / 4),
            u32(gate.cols), u32(gate.rows)};
  run("swiglu", {kElementWorkgroup}, {bg, bu, bo}, push, element_groups(gate.rows, gate.cols));
}

void VulkanDevice::add(const backend::Tensor& x, const backend::Tensor& y) {
  require_f32(x, "add");
  require_f32(y, "add");
  if (y.cols != x.cols || y.rows < x.rows) throw Error("vulkan: add: mismatched shapes");
  const Bound bx = bind(x), by = bind(y);
  struct {
    uint32_t x_off, x_stride, y_off, y_stride, cols, rows;
  } push = {bx.rel / 4, u32(x.row_stride / 4), by.rel / 4, u32(y.row_stride / 4), u32(x.cols), u32(x.rows)};
  run("add", {kElementWorkgroup}, {bx, by}, push, element_groups(x.rows, x.cols));
}

void VulkanDevice::add_bias(const backend::Tensor& bias, const backend::Tensor& y) {
  require_f32(y, "add_bias");
  require_half_or_f32_row(bias, "add_bias");
  if (bias.cols != y.cols) throw Error("vulkan: add_bias: mismatched shapes");
  const Bound bb = bind(bias.row_range(0, 1)), by = bind(y);
  struct {
    uint32_t b_off, y_off, y_stride, cols, rows;
  } push = {bb.rel, by.rel / 4, u32(y.row_stride / 4), u32(y.cols), u32(y.rows)};
  run("add_bias", {kElementWorkgroup, static_cast<uint32_t>(bias.type)}, {bb, by}, push, element_groups(y.rows, y.cols));
}

}  // namespace anychip::vulkan
