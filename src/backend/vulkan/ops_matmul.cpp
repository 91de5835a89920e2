// matmul and get_rows: the ops that read weights in their GGUF block layout.
#include <string>

#include "backend/vulkan/vulkan_device.h"

namespace anychip::vulkan {
namespace {

// matvec.comp: kMatvecRows rows per workgroup of kMatvecWorkgroup, one subgroup (or a
// WG / kMatvecRows slice) per row, coalesced whole-unit loads, each decoded weight applied to up
// to kMatvecTokens tokens. 4 rows of 32 fit one workgroup of 128 on 32-wide subgroups; wider
// subgroups loop over the rows.
constexpr uint32_t kMatvecWorkgroup = 128;
constexpr uint32_t kMatvecRows = 4;
constexpr uint32_t kMatvecTokens = 8;
constexpr uint32_t kGetRowsWorkgroup = 64;

uint32_t u32(size_t v) { return static_cast<uint32_t>(v); }

// The CPU backend (like llama.cpp) rounds activations to the weight's half type before a dot
// product with half weights; doing the same keeps f16 models well inside their tolerance.
uint32_t activation_rounding(GgmlType w) { return w == GgmlType::F16 ? 1u : w == GgmlType::BF16 ? 2u : 0u; }

bool is_f32_rows(const backend::Tensor& t) { return t.type == GgmlType::F32 && t.row_stride % 4 == 0 && t.offset % 4 == 0; }

bool even_offsets(const backend::Tensor& t) { return t.row_stride % 2 == 0 && t.offset % 2 == 0; }

}  // namespace

void VulkanDevice::matmul(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y) {
  if (x.cols != w.cols || y.cols != w.rows || x.rows != y.rows || !is_f32_rows(x) || !is_f32_rows(y)) {
    throw Error("vulkan: matmul: mismatched shapes or non-f32 activations");
  }
  if (!supports(backend::Op::MatMul, w.type)) {
    throw Error("vulkan: matmul: unsupported weight type " + std::string(type_name(w.type)));
  }
  if (!even_offsets(w) || (w.type == GgmlType::F32 && !is_f32_rows(w))) {
    throw Error("vulkan: matmul: weight rows are not aligned to their element size");
  }
  if (x.rows == 0 || w.rows == 0) return;
  const Bound bw = bind(w), bx = bind(x), by = bind(y);
  const uint64_t row_groups = (static_cast<uint64_t>(w.rows) + kMatvecRows - 1) / kMatvecRows;
  // Full groups of kMatvecTokens tokens along z, then one dispatch for the rest (all of decode),
  // each with its exact token count as a specialization constant so no invocation tests bounds.
  const uint64_t full = static_cast<uint64_t>(x.rows) / kMatvecTokens;
  if (full > 65535) throw Error("vulkan: matmul: too many tokens in one batch (" + std::to_string(x.rows) + ")");
  for (const bool rest : {false, true}) {
    const uint64_t first = rest ? full * kMatvecTokens : 0;
    const uint64_t tokens = rest ? static_cast<uint64_t>(x.rows) - first : full * kMatvecTokens;
    if (tokens == 0) continue;
    const uint32_t nt = rest ? u32(tokens) : kMatvecTokens;
    struct {
      uint32_t w_off, w_stride, x_off, x_stride, y_off, y_stride, cols, rows;
    } push = {bw.rel, u32(w.row_stride), u32(bx.rel / 4 + first * (x.row_stride / 4)), u32(x.row_stride / 4),
              u32(by.rel / 4 + first * (y.row_stride / 4)), u32(y.row_stride / 4), u32(w.cols), u32(w.rows)};
    const uint32_t x_vec4 = push.x_off % 4 == 0 && push.x_stride % 4 == 0 ? 1u : 0u;
    // Matmuls differ by orders of magnitude (a norm-sized projection against the vocabulary), so
    // the timing table tells them apart by weight type and shape; built only when timing is on.
    std::string label;
    if (stream_.timing()) {
      label = "matvec " + std::string(type_name(w.type)) + " " + std::to_string(w.rows) + "x" + std::to_string(w.cols) +
              " t" + std::to_string(nt);
    }
    run("matvec", {kMatvecWorkgroup, static_cast<uint32_t>(w.type), nt, activation_rounding(w.type), kMatvecRows, x_vec4},
        {bw, bx, by}, push, row_groups, u32(tokens / nt), label.empty() ? nullptr : label.c_str());
  }
}

void VulkanDevice::get_rows(const backend::Tensor& table, std::span<const int32_t> ids, const backend::Tensor& out) {
  if (out.cols != table.cols || out.rows < static_cast<int64_t>(ids.size()) || !is_f32_rows(out)) {
    throw Error("vulkan: get_rows: mismatched shapes or a non-f32 output");
  }
  if (!supports(backend::Op::GetRows, table.type) || !even_offsets(table) ||
      (table.type == GgmlType::F32 && !is_f32_rows(table))) {
    throw Error("vulkan: get_rows: unsupported or unaligned table of type " + std::string(type_name(table.type)));
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= table.rows) {
      throw Error("vulkan: get_rows: row id " + std::to_string(id) + " is outside [0, " + std::to_string(table.rows) + ")");
    }
  }
  if (ids.empty()) return;
  const Bound bt = bind(table), bo = bind(out), bi = upload(ids.data(), ids.size_bytes());
  struct {
    uint32_t t_off, t_stride, o_off, o_stride, ids_off, cols, n;
  } push = {bt.rel, u32(table.row_stride), bo.rel / 4, u32(out.row_stride / 4), bi.rel / 4, u32(table.cols), u32(ids.size())};
  run("get_rows", {kGetRowsWorkgroup, static_cast<uint32_t>(table.type)}, {bt, bi, bo}, push, ids.size());
}

}  // namespace anychip::vulkan
