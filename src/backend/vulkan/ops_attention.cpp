// store_rows (keys/values into the paged cache) and attention over it.
#include <algorithm>
#include <string>
#include <vector>

#include "backend/vulkan/vulkan_device.h"

namespace anychip::vulkan {
namespace {

constexpr uint32_t kStoreWorkgroup = 256;
constexpr uint32_t kAttentionWorkgroup = 32;  // keys per tile
constexpr int kHeadDimMax = 256;              // HEAD_DIM_MAX in attention.comp

constexpr uint32_t kSplitWorkgroup = 128;    // attention_split.comp: 4 invocations per key of a 32-key tile
constexpr uint32_t kMergeWorkgroup = 64;
constexpr uint32_t kSplitTile = 32;          // TILE in attention_split.comp
// Workgroups a dispatch should have to fill a big GPU (~130 compute units, a few each); a decode
// step alone has only rows * heads (heads ~32).
constexpr int64_t kTargetWorkgroups = 1024;
constexpr uint32_t kMaxSplits = 64;

uint32_t u32(size_t v) { return static_cast<uint32_t>(v); }

bool cache_ok(const backend::Tensor& c) {
  return (c.type == GgmlType::F16 || c.type == GgmlType::F32) && c.row_stride % 4 == 0 && c.offset % 4 == 0;
}

struct AttentionSplit {
  uint32_t chunk, n_split;  // keys per workgroup, workgroups per (head, row)
};

// Splits the keys when rows * heads alone would leave the GPU idle (decoding); prefill batches
// have enough rows and take one chunk per row, written straight to the output.
AttentionSplit choose_attention_split(int64_t rows, int n_head, int64_t max_keys) {
  const int64_t base = std::max<int64_t>(rows * n_head, 1);
  const int64_t tiles = (max_keys + kSplitTile - 1) / kSplitTile;
  int64_t want = std::clamp<int64_t>((kTargetWorkgroups + base - 1) / base, 1, std::min<int64_t>(tiles, kMaxSplits));
  const int64_t chunk = ((tiles + want - 1) / want) * kSplitTile;
  return {u32(chunk), u32((max_keys + chunk - 1) / chunk)};
}

}  // namespace

void VulkanDevice::store_rows(const backend::Tensor& src, std::span<const int32_t> cache_rows, const backend::Tensor& cache) {
  if (src.type != GgmlType::F32 || src.cols != cache.cols || static_cast<int64_t>(cache_rows.size()) < src.rows ||
      !cache_ok(cache) || (cache.type == GgmlType::F16 && cache.cols % 2 != 0)) {
    throw Error("vulkan: store_rows: mismatched shapes or an unsupported cache (f16 with even rows, or f32)");
  }
  for (int64_t t = 0; t < src.rows; ++t) {
    if (cache_rows[t] < 0 || cache_rows[t] >= cache.rows) {
      throw Error("vulkan: store_rows: cache row " + std::to_string(cache_rows[t]) + " is outside [0, " +
                  std::to_string(cache.rows) + ")");
    }
  }
  if (src.rows == 0) return;
  const bool f16 = cache.type == GgmlType::F16;
  const uint32_t words = u32(f16 ? cache.cols / 2 : cache.cols);
  const Bound bs = bind(src), bc = bind(cache), br = upload(cache_rows.data(), static_cast<size_t>(src.rows) * sizeof(int32_t));
  struct {
    uint32_t s_off, s_stride, rows_off, c_off, c_stride, words, n;
  } push = {bs.rel / 4, u32(src.row_stride / 4), br.rel / 4, bc.rel / 4, u32(cache.row_stride / 4), words, u32(src.rows)};
  run("store_rows", {kStoreWorkgroup, f16 ? 1u : 0u}, {bs, br, bc}, push,
      (static_cast<uint64_t>(words) * static_cast<uint64_t>(src.rows) + kStoreWorkgroup - 1) / kStoreWorkgroup);
}

void VulkanDevice::attention(const backend::Tensor& q, const backend::Tensor& k_cache, const backend::Tensor& v_cache,
                             std::span<const int32_t> positions, const backend::KvPages& pages,
                             const backend::AttentionParams& p, const backend::Tensor& out) {
  if (p.head_dim <= 0 || p.head_dim > kHeadDimMax || p.n_head_kv <= 0 || p.n_head % p.n_head_kv != 0) {
    throw Error("vulkan: attention: head_dim " + std::to_string(p.head_dim) + " with " + std::to_string(p.n_head) +
                "/" + std::to_string(p.n_head_kv) + " heads is not supported (head_dim up to " +
                std::to_string(kHeadDimMax) + ")");
  }
  if (k_cache.type != v_cache.type || k_cache.row_stride != v_cache.row_stride || !cache_ok(k_cache) ||
      !cache_ok(v_cache) || q.type != GgmlType::F32 || out.type != GgmlType::F32) {
    throw Error("vulkan: attention: unsupported cache or activation layout");
  }
  if (static_cast<int64_t>(positions.size()) != q.rows || static_cast<int64_t>(pages.row_seq.size()) != q.rows ||
      q.rows > 65535 || p.n_head > 65535 || pages.block_size <= 0 || pages.max_blocks <= 0) {
    throw Error("vulkan: attention: inconsistent positions, sequences or block tables");
  }
  if (q.rows == 0) return;
  // Validate what the shader will index with: an out-of-range row would read outside the cache.
  const size_t n_seqs = pages.block_table.size() / static_cast<size_t>(pages.max_blocks);
  for (int64_t t = 0; t < q.rows; ++t) {
    const int32_t seq = pages.row_seq[t];
    if (seq < 0 || static_cast<size_t>(seq) >= n_seqs || positions[t] < 0 ||
        positions[t] / pages.block_size >= pages.max_blocks) {
      throw Error("vulkan: attention: query row " + std::to_string(t) + " has no cache blocks for position " +
                  std::to_string(positions[t]));
    }
    for (int32_t b = 0; b <= positions[t] / pages.block_size; ++b) {
      const int64_t block = pages.block_table[static_cast<size_t>(seq) * pages.max_blocks + b];
      if (block < 0 || (block + 1) * pages.block_size > k_cache.rows) {
        throw Error("vulkan: attention: block " + std::to_string(block) + " is outside the cache");
      }
    }
  }
  // Positions, sequence of each row and block tables travel together in one upload.
  std::vector<int32_t> ints;
  ints.reserve(positions.size() * 2 + pages.block_table.size());
  ints.insert(ints.end(), positions.begin(), positions.end());
  ints.insert(ints.end(), pages.row_seq.begin(), pages.row_seq.end());
  ints.insert(ints.end(), pages.block_table.begin(), pages.block_table.end());
  const Bound bk = bind(k_cache), bv = bind(v_cache), bq = bind(q), bo = bind(out), bi = upload(ints.data(), ints.size() * 4);
  struct {
    uint32_t q_off, q_stride, o_off, o_stride, k_off, v_off, kv_stride, pos_off, seq_off, table_off;
    uint32_t group, head_dim, block_size, max_blocks;
    float scale;
  } push = {bq.rel / 4, u32(q.row_stride / 4), bo.rel / 4, u32(out.row_stride / 4), bk.rel, bv.rel,
            u32(k_cache.row_stride), bi.rel / 4, u32(bi.rel / 4 + positions.size()),
            u32(bi.rel / 4 + positions.size() * 2), u32(p.n_head / p.n_head_kv), u32(p.head_dim),
            u32(pages.block_size), u32(pages.max_blocks), p.scale};
  const uint32_t f16 = k_cache.type == GgmlType::F16 ? 1u : 0u;
  if (p.head_dim % 2 != 0) {
    // Odd head dims (f32 caches only) keep the one-workgroup-per-(head, row) shader, which
    // reads single elements; the split shader works on pairs of dims.
    const Bound bindings[] = {bk, bv, bq, bo, bi};
    stream_.dispatch("attention", pipelines_.get("attention", {kAttentionWorkgroup, f16}), bindings, &push,
                     sizeof push, u32(p.n_head), u32(q.rows), 1);
    return;
  }
  int32_t max_pos = 0;
  for (int32_t pos : positions) max_pos = std::max(max_pos, pos);
  const AttentionSplit split = choose_attention_split(q.rows, p.n_head, max_pos + 1);
  const size_t part_floats = static_cast<size_t>(q.rows) * p.n_head * split.n_split * (p.head_dim + 2);
  const Bound bpart = split.n_split > 1 ? stream_.bind(attention_scratch(part_floats * 4)) : bo;
  struct {
    decltype(push) base;
    uint32_t chunk, partial;
  } split_push = {push, split.chunk, split.n_split > 1 ? 1u : 0u};
  if (split.n_split > 1) {
    split_push.base.o_off = bpart.rel / 4;
    split_push.base.o_stride = 0;
  }
  const Bound bindings[] = {bk, bv, bq, bpart, bi};
  stream_.dispatch("attention", pipelines_.get("attention_split", {kSplitWorkgroup, f16}), bindings, &split_push,
                   sizeof split_push, split.n_split, u32(p.n_head), u32(q.rows));
  if (split.n_split == 1) return;
  struct {
    uint32_t part_off, o_off, o_stride, pos_off, head_dim, chunk, n_split;
  } merge_push = {bpart.rel / 4, bo.rel / 4, u32(out.row_stride / 4), bi.rel / 4, u32(p.head_dim), split.chunk,
                  split.n_split};
  const Bound merge_bindings[] = {bpart, bo, bi};
  stream_.dispatch("attention_merge", pipelines_.get("attention_merge", {kMergeWorkgroup}), merge_bindings,
                   &merge_push, sizeof merge_push, u32(p.n_head), u32(q.rows), 1);
}

Range VulkanDevice::attention_scratch(size_t bytes) {
  // Buffers replaced while work that uses them is recorded live until that work has run.
  if (retired_epoch_ != stream_.epoch()) retired_scratch_.clear();
  if (!scratch_ || scratch_->size() < bytes) {
    if (scratch_) {
      retired_scratch_.push_back(std::move(scratch_));
      retired_epoch_ = stream_.epoch();
    }
    scratch_ = std::make_unique<GpuBuffer>(ctx_, std::max<size_t>(bytes * 2, 1 << 20), Placement::Device);
  }
  return Range{scratch_.get(), 0, bytes};
}

}  // namespace anychip::vulkan
