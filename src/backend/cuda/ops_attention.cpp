// store_rows (keys/values into the paged cache) and attention over it.
#include <algorithm>
#include <string>
#include <vector>

#include "backend/cuda/attention_tiles.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/rope_upload.h"
#include "util/error.h"

namespace anychip::cuda {
namespace {

bool cache_ok(const backend::Tensor& c) {
  return (c.type == GgmlType::F16 || c.type == GgmlType::F32) && c.row_stride % 4 == 0 && c.offset % 4 == 0;
}

}  // namespace

void CudaDevice::store_rows(const backend::Tensor& src, std::span<const int32_t> cache_rows, const backend::Tensor& cache) {
  if (src.type != GgmlType::F32 || src.row_stride % 4 != 0 || src.cols != cache.cols ||
      static_cast<int64_t>(cache_rows.size()) < src.rows || !cache_ok(cache)) {
    throw Error("cuda: store_rows: mismatched shapes or an unsupported cache (f16 or f32 rows)");
  }
  for (int64_t t = 0; t < src.rows; ++t) {
    if (cache_rows[t] < 0 || cache_rows[t] >= cache.rows) {
      throw Error("cuda: store_rows: cache row " + std::to_string(cache_rows[t]) + " is outside [0, " +
                  std::to_string(cache.rows) + ")");
    }
  }
  if (src.rows == 0) return;
  kernels::StoreRowsArgs a{};
  a.src = address_as<float>(src);
  a.cache = address(cache);
  a.src_stride = src.row_stride / 4;
  a.cache_stride = cache.row_stride;
  a.cols = src.cols;
  a.rows = src.rows;
  a.f16_cache = cache.type == GgmlType::F16 ? 1 : 0;
  a.cache_rows = static_cast<const int32_t*>(stream_.upload(cache_rows.data(), static_cast<size_t>(src.rows) * 4));
  forget_converted();  // it may write the rows a matmul converted
  stream_.record("store_rows", a, kernels::store_rows);
}

// One kernel when the tensors have the layout it handles (k, v and both caches as wide as the
// key/value heads); anything else goes op by op, whose checks then name the problem.
void CudaDevice::rope_and_store(const backend::Tensor& q, const backend::Tensor& k, const backend::Tensor& v,
                                std::span<const int32_t> positions, const backend::RopeParams& p,
                                std::span<const int32_t> cache_rows, const backend::Tensor& k_cache,
                                const backend::Tensor& v_cache) {
  const auto f32_rows = [](const backend::Tensor& t) {
    return t.type == GgmlType::F32 && t.row_stride % 4 == 0 && t.offset % 4 == 0;
  };
  const bool fits = p.head_dim > 0 && p.head_dim % 2 == 0 && f32_rows(q) && f32_rows(k) && f32_rows(v) &&
                    q.cols % p.head_dim == 0 && k.cols % p.head_dim == 0 && v.cols == k.cols && k_cache.cols == k.cols &&
                    v_cache.cols == k.cols && k.rows == q.rows && v.rows == q.rows && cache_ok(k_cache) &&
                    cache_ok(v_cache) && static_cast<int64_t>(positions.size()) == q.rows &&
                    static_cast<int64_t>(cache_rows.size()) >= q.rows;
  if (!fits || q.rows == 0) {
    backend::Device::rope_and_store(q, k, v, positions, p, cache_rows, k_cache, v_cache);
    return;
  }
  for (int64_t t = 0; t < q.rows; ++t) {
    if (cache_rows[t] < 0 || cache_rows[t] >= k_cache.rows || cache_rows[t] >= v_cache.rows) {
      throw Error("cuda: rope_and_store: cache row " + std::to_string(cache_rows[t]) + " is outside [0, " +
                  std::to_string(std::min(k_cache.rows, v_cache.rows)) + ")");
    }
  }
  // rope's words, then the cache rows, in one upload.
  std::vector<int32_t> words = rope_words(positions, p);
  const size_t rows_at = words.size();
  words.insert(words.end(), cache_rows.begin(), cache_rows.begin() + q.rows);
  kernels::RopeStoreArgs a{};
  a.q = address_as<float>(q);
  a.k = address_as<float>(k);
  a.v = address_as<float>(v);
  a.k_cache = address(k_cache);
  a.v_cache = address(v_cache);
  a.q_stride = q.row_stride / 4;
  a.k_stride = k.row_stride / 4;
  a.v_stride = v.row_stride / 4;
  a.k_cache_stride = k_cache.row_stride;
  a.v_cache_stride = v_cache.row_stride;
  a.rows = q.rows;
  a.q_heads = static_cast<int32_t>(q.cols / p.head_dim);
  a.kv_heads = static_cast<int32_t>(k.cols / p.head_dim);
  a.head_dim = p.head_dim;
  a.neox = p.style == backend::RopeStyle::Neox ? 1 : 0;
  a.theta_scale = rope_theta_scale(p);
  a.freq_scale = p.freq_scale;
  a.k_f16 = k_cache.type == GgmlType::F16 ? 1 : 0;
  a.v_f16 = v_cache.type == GgmlType::F16 ? 1 : 0;
  const auto* base = static_cast<const int32_t*>(stream_.upload(words.data(), words.size() * sizeof(int32_t)));
  a.positions = base;
  a.freq_factors = p.freq_factors ? reinterpret_cast<const float*>(base + positions.size()) : nullptr;
  a.cache_rows = base + rows_at;
  forget_converted();  // it may write the rows a matmul converted
  stream_.record("rope_and_store", a, kernels::rope_and_store);
}

void CudaDevice::attention(const backend::Tensor& q, const backend::Tensor& k_cache, const backend::Tensor& v_cache,
                           std::span<const int32_t> positions, const backend::KvPages& pages,
                           const backend::AttentionParams& p, const backend::Tensor& out) {
  if (p.head_dim <= 0 || p.head_dim > kernels::kAttentionMaxHeadDim || p.n_head_kv <= 0 || p.n_head % p.n_head_kv != 0) {
    throw Error("cuda: attention: head_dim " + std::to_string(p.head_dim) + " with " + std::to_string(p.n_head) + "/" +
                std::to_string(p.n_head_kv) + " heads is not supported (head_dim up to " +
                std::to_string(kernels::kAttentionMaxHeadDim) + ")");
  }
  if (k_cache.type != v_cache.type || k_cache.row_stride != v_cache.row_stride || !cache_ok(k_cache) ||
      !cache_ok(v_cache) || q.type != GgmlType::F32 || out.type != GgmlType::F32 || q.row_stride % 4 != 0 ||
      out.row_stride % 4 != 0 || q.cols < static_cast<int64_t>(p.n_head) * p.head_dim ||
      out.cols < static_cast<int64_t>(p.n_head) * p.head_dim ||
      k_cache.cols < static_cast<int64_t>(p.n_head_kv) * p.head_dim) {
    throw Error("cuda: attention: unsupported cache or activation layout");
  }
  if (static_cast<int64_t>(positions.size()) != q.rows || static_cast<int64_t>(pages.row_seq.size()) != q.rows ||
      p.n_head > 65535 || pages.block_size <= 0 || pages.max_blocks <= 0) {
    throw Error("cuda: attention: inconsistent positions, sequences or block tables");
  }
  if (q.rows == 0) return;
  // Validate what the kernel will index with: an out-of-range row would read outside the cache.
  // Each sequence's blocks are checked once, up to its furthest query row (every decode step
  // runs this per layer, so it stays linear in rows plus blocks).
  const size_t n_seqs = pages.block_table.size() / static_cast<size_t>(pages.max_blocks);
  std::vector<int32_t> blocks_used(n_seqs, 0);
  for (int64_t t = 0; t < q.rows; ++t) {
    const int32_t seq = pages.row_seq[t];
    if (seq < 0 || static_cast<size_t>(seq) >= n_seqs || positions[t] < 0 ||
        positions[t] / pages.block_size >= pages.max_blocks) {
      throw Error("cuda: attention: query row " + std::to_string(t) + " has no cache blocks for position " +
                  std::to_string(positions[t]));
    }
    blocks_used[seq] = std::max(blocks_used[seq], positions[t] / pages.block_size + 1);
  }
  for (size_t seq = 0; seq < n_seqs; ++seq) {
    for (int32_t b = 0; b < blocks_used[seq]; ++b) {
      const int64_t block = pages.block_table[seq * pages.max_blocks + b];
      if (block < 0 || (block + 1) * pages.block_size > k_cache.rows) {
        throw Error("cuda: attention: block " + std::to_string(block) + " is outside the cache");
      }
    }
  }
  const std::vector<int32_t> tiles = attention_tiles(pages.row_seq, kernels::kAttentionTileRows);
  // Positions, sequence of each row, block tables and tiles travel together in one upload.
  std::vector<int32_t> ints;
  ints.reserve(positions.size() * 2 + pages.block_table.size() + tiles.size());
  ints.insert(ints.end(), positions.begin(), positions.end());
  ints.insert(ints.end(), pages.row_seq.begin(), pages.row_seq.end());
  ints.insert(ints.end(), pages.block_table.begin(), pages.block_table.end());
  ints.insert(ints.end(), tiles.begin(), tiles.end());

  kernels::AttentionArgs a{};
  a.q = address_as<float>(q);
  a.k = address(k_cache);
  a.v = address(v_cache);
  a.out = address_as<float>(out);
  a.q_stride = q.row_stride / 4;
  a.out_stride = out.row_stride / 4;
  a.kv_stride = k_cache.row_stride;
  a.n_tiles = tiles.empty() ? static_cast<int32_t>(q.rows) : static_cast<int32_t>(tiles.size() / 2);
  a.n_head = p.n_head;
  a.group = p.n_head / p.n_head_kv;
  a.head_dim = p.head_dim;
  a.block_size = pages.block_size;
  a.max_blocks = pages.max_blocks;
  a.scale = p.scale;
  a.f16_cache = k_cache.type == GgmlType::F16 ? 1 : 0;
  const auto* base = static_cast<const int32_t*>(stream_.upload(ints.data(), ints.size() * sizeof(int32_t)));
  a.positions = base;
  a.row_seq = base + positions.size();
  a.block_table = base + positions.size() * 2;
  a.tiles = tiles.empty() ? nullptr : base + positions.size() * 2 + pages.block_table.size();
  forget_converted();  // it may write the rows a matmul converted
  stream_.record("attention", a, kernels::attention);
}

}  // namespace anychip::cuda
