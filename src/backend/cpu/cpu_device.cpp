#include "backend/cpu/cpu_device.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "backend/cpu/bandwidth.h"
#include "backend/cpu/cpu_buffer.h"
#include "backend/cpu/kernels/attention_kernels.h"
#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "util/error.h"

namespace anychip::cpu {

using backend::Tensor;

backend::DeviceInfo describe_host_cpu(int threads) {
  backend::DeviceInfo info;
  info.backend = "cpu";
  info.vendor = "unknown";
  info.name = "cpu";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    auto value = [&] { return line.substr(line.find(':') + 2); };
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) info.name = value();
    if (line.rfind("vendor_id", 0) == 0 && line.find(':') != std::string::npos) info.vendor = value();
    if (info.name != "cpu" && info.vendor != "unknown") break;
  }
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    uint64_t kb = 0;
    meminfo >> kb;
    if (key == "MemTotal:") {
      info.memory_bytes = kb * 1024;
      break;
    }
    meminfo.ignore(256, '\n');
  }
  info.threads = threads;
  return info;
}

// The kernel for w's layout.
static GemmFn gemm_for(const MatmulKernels& k, const Tensor& w) {
  return w.layout == backend::Layout::DevicePacked ? k.gemm_packed : k.gemm;
}

// The packed copy replaced these pages: out of this process's resident set (they are the mapped
// file's, read again from it if ever touched). MADV_PAGEOUT never discards data, whatever the
// memory is, so a borrowed buffer that isn't a file mapping is safe too.
static void release_pages(const void* p, size_t bytes) {
#ifdef MADV_PAGEOUT
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);
#else
  (void)p;
  (void)bytes;
#endif
}

static int resolve_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

CpuDevice::CpuDevice(int threads)
    : info_(describe_host_cpu(resolve_threads(threads))), pool_(resolve_threads(threads)), isa_(detect_isa()),
      row_kernels_(find_row_kernels(isa_)) {}

bool CpuDevice::supports(backend::Op op, GgmlType type) const {
  switch (op) {
    case backend::Op::MatMul:
      return type_traits(type).weight_supported;
    case backend::Op::GetRows:
    case backend::Op::RmsNorm:
    case backend::Op::AddBias:
      return quant::can_dequantize(type);
    case backend::Op::Attention:
      return type == GgmlType::F16 || type == GgmlType::F32;
    default:
      return type == GgmlType::F32;
  }
}

std::unique_ptr<backend::Buffer> CpuDevice::alloc(size_t bytes) { return HostBuffer::allocate(bytes); }

std::unique_ptr<backend::Buffer> CpuDevice::import_host(const void* data, size_t bytes) {
  return HostBuffer::borrow(data, bytes);
}

double CpuDevice::measure_read_bandwidth_gbs() { return cpu::measure_read_bandwidth_gbs(pool_.size()); }

backend::Device::PreparedWeight CpuDevice::prepare_matmul_weight(const Tensor& w) {
  const MatmulKernels* k = find_matmul_kernels(w.type, isa_);
  const size_t rb = row_bytes(w.type, w.cols);
  // ANYCHIP_NO_REPACK: the file's layout, to measure what packing gains.
  if (!k || !k->pack || w.layout != backend::Layout::Rows || w.row_stride != rb || std::getenv("ANYCHIP_NO_REPACK")) {
    return {w, nullptr};
  }
  std::unique_ptr<HostBuffer> storage = HostBuffer::allocate(rb * static_cast<size_t>(packed_rows(w.rows)));
  const uint8_t* src = w.host_row<uint8_t>(0);
  auto* dst = static_cast<uint8_t*>(storage->host_ptr());
  pool_.parallel_for(packed_rows(w.rows) / kPackRows, [&](int64_t begin, int64_t end) {
    const int64_t r0 = begin * kPackRows;
    k->pack(src + r0 * rb, rb, w.cols, std::min(end * kPackRows, w.rows) - r0, dst + r0 * rb);
  });
  release_pages(src, rb * static_cast<size_t>(w.rows));
  Tensor packed = w;
  packed.buffer = storage.get();
  packed.offset = 0;
  packed.layout = backend::Layout::DevicePacked;
  return {packed, std::move(storage)};
}

void CpuDevice::get_rows(const Tensor& table, std::span<const int32_t> ids, const Tensor& out) {
  assert(out.type == GgmlType::F32 && out.cols == table.cols && out.rows >= static_cast<int64_t>(ids.size()));
  // A packed table (a tied output matrix) gives its rows back in the file's layout first.
  const MatmulKernels* packed = table.layout == backend::Layout::DevicePacked ? find_matmul_kernels(table.type, isa_) : nullptr;
  assert(table.layout == backend::Layout::Rows || (packed && packed->unpack_row));
  std::vector<uint8_t> row(packed ? table.row_stride : 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    assert(ids[i] >= 0 && ids[i] < table.rows);
    const uint8_t* src = table.host_row<uint8_t>(ids[i]);
    if (packed) {
      packed->unpack_row(table.host_row<uint8_t>(0), table.row_stride, table.cols, ids[i], row.data());
      src = row.data();
    }
    ref::to_f32(table.type, src, out.host_row<float>(static_cast<int64_t>(i)), table.cols);
  }
}

void CpuDevice::matmul(const Tensor& w, const Tensor& x, const Tensor& y) {
  assert(x.cols == w.cols && y.cols == w.rows && x.rows == y.rows);
  const MatmulKernels* k = find_matmul_kernels(w.type, isa_);
  assert(w.layout == backend::Layout::Rows || (k && k->gemm_packed));
  if (k) {
    matmul_fast(*k, w, x, y);
  } else {
    matmul_reference(w, x, y);
  }
}

void CpuDevice::matmul_fast(const MatmulKernels& k, const Tensor& w, const Tensor& x, const Tensor& y) {
  const int64_t n_tokens = x.rows;
  const size_t act_row_bytes = row_bytes(k.activation_type, w.cols);
  act_scratch_.resize(act_row_bytes * static_cast<size_t>(n_tokens));
  pool_.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) k.quantize(x.host_row<float>(t), &act_scratch_[t * act_row_bytes], w.cols);
  });
  // Rows in chunks a few cache lines tall, so threads share the work evenly even when the
  // row count is small.
  constexpr int64_t kRowsPerChunk = NextReadPredictor::kRowsPerChunk;
  NextReadPredictor::Read read;
  read.add(w.host_row<uint8_t>(0), w.row_stride, w.rows);
  const GemmFn gemm = gemm_for(k, w);
  run_matmul_chunks(read, [&](int64_t begin, int64_t end) {
    gemm(w.host_row<uint8_t>(0), w.row_stride, w.cols, act_scratch_.data(), act_row_bytes, n_tokens,
           y.host_row<float>(0), y.row_stride / sizeof(float), begin * kRowsPerChunk,
           std::min(end * kRowsPerChunk, w.rows));
  });
}

void CpuDevice::run_matmul_chunks(const NextReadPredictor::Read& read, const std::function<void(int64_t, int64_t)>& fn) {
  // As far ahead as the kernels themselves prefetch: enough to cover a memory round trip.
  constexpr size_t kPrefetchBytes = 8192;
  const std::optional<NextReadPredictor::Read> next = next_read_.advance(read);
  if (!next) {
    pool_.parallel_for_balanced(read.chunks(), fn);
    return;
  }
  const int threads = pool_.size();
  pool_.parallel_for_balanced(read.chunks(), fn,
                              [&](int thread) { NextReadPredictor::prefetch_share(*next, thread, threads, kPrefetchBytes); });
}

void CpuDevice::matmul_same_input(std::span<const Tensor> ws, const Tensor& x, std::span<const Tensor> ys) {
  assert(ws.size() == ys.size());
  // One dispatch needs fast kernels sharing one activation format; otherwise one call each.
  constexpr size_t kMaxGroup = 4;
  const MatmulKernels* kernels[kMaxGroup];
  bool grouped = !ws.empty() && ws.size() <= kMaxGroup;
  for (size_t i = 0; grouped && i < ws.size(); ++i) {
    kernels[i] = find_matmul_kernels(ws[i].type, isa_);
    grouped = kernels[i] && kernels[i]->activation_type == kernels[0]->activation_type;
  }
  if (!grouped) {
    backend::Device::matmul_same_input(ws, x, ys);
    return;
  }
  const int64_t n_tokens = x.rows;
  const size_t act_row_bytes = row_bytes(kernels[0]->activation_type, x.cols);
  act_scratch_.resize(act_row_bytes * static_cast<size_t>(n_tokens));
  pool_.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) kernels[0]->quantize(x.host_row<float>(t), &act_scratch_[t * act_row_bytes], x.cols);
  });
  // The matrices' row chunks numbered one after another, split across threads in one pass.
  constexpr int64_t kRowsPerChunk = NextReadPredictor::kRowsPerChunk;
  static_assert(kMaxGroup <= NextReadPredictor::kMaxMatrices);
  NextReadPredictor::Read read;
  for (size_t i = 0; i < ws.size(); ++i) {
    assert(ws[i].cols == x.cols && ys[i].cols == ws[i].rows && ys[i].rows == n_tokens);
    read.add(ws[i].host_row<uint8_t>(0), ws[i].row_stride, ws[i].rows);
  }
  const int64_t* first_chunk = read.first_chunk;
  run_matmul_chunks(read, [&](int64_t begin, int64_t end) {
    for (size_t i = 0; i < ws.size(); ++i) {
      const int64_t b = std::max(begin, first_chunk[i]) - first_chunk[i];
      const int64_t e = std::min(end, first_chunk[i + 1]) - first_chunk[i];
      if (b >= e) continue;
      const Tensor& w = ws[i];
      gemm_for(*kernels[i], w)(w.host_row<uint8_t>(0), w.row_stride, w.cols, act_scratch_.data(), act_row_bytes, n_tokens,
                       ys[i].host_row<float>(0), ys[i].row_stride / sizeof(float), b * kRowsPerChunk,
                       std::min(e * kRowsPerChunk, w.rows));
    }
  });
}

void CpuDevice::matmul_reference(const Tensor& w, const Tensor& x, const Tensor& y) {
  const int64_t n_tokens = x.rows;
  const GgmlType act_type = ref::activation_type_for(w.type);
  const int64_t n_blocks = w.cols / 32 + 1;
  std::vector<float> xr(static_cast<size_t>(n_tokens * w.cols)), corrections(static_cast<size_t>(n_tokens * n_blocks));
  pool_.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      ref::round_activations(act_type, x.host_row<float>(t), &xr[t * w.cols], w.cols, &corrections[t * n_blocks]);
    }
  });
  pool_.parallel_for(w.rows, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t j = begin; j < end; ++j) {
      ref::to_f32(w.type, w.host_row<uint8_t>(j), row.data(), w.cols);
      for (int64_t t = 0; t < n_tokens; ++t) {
        y.host_row<float>(t)[j] = ref::dot_f32(row.data(), &xr[t * w.cols], w.cols) +
                                  ref::min_term_correction(w.type, w.host_row<uint8_t>(j), w.cols, &corrections[t * n_blocks]);
      }
    }
  });
}

void CpuDevice::rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& y) {
  // x rows may hold several groups of weight.cols (per-head norms of Qwen3).
  assert(x.cols % weight.cols == 0);
  std::vector<float> converted;
  const float* w = weight.host_row<float>(0);
  if (weight.type != GgmlType::F32) {
    converted.resize(static_cast<size_t>(weight.cols));
    ref::to_f32(weight.type, weight.host_row<uint8_t>(0), converted.data(), weight.cols);
    w = converted.data();
  }
  const int64_t groups = x.cols / weight.cols;
  // One row (a decode step) runs on the caller: too little work to be worth waking the pool.
  pool_.parallel_for(x.rows, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      for (int64_t g = 0; g < groups; ++g) {
        row_kernels_.rms_norm(x.host_row<float>(t) + g * weight.cols, w, eps, y.host_row<float>(t) + g * weight.cols,
                              weight.cols);
      }
    }
  });
}

void CpuDevice::rope(const Tensor& x, std::span<const int32_t> positions, const backend::RopeParams& p) {
  assert(static_cast<int64_t>(positions.size()) == x.rows && x.cols % p.head_dim == 0);
  // Every head of a row shares the row's angles.
  const float* tables = rope_tables_.tables(positions, p);
  pool_.parallel_for(x.rows, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* c = tables + t * p.head_dim;
      for (int64_t h = 0; h < x.cols / p.head_dim; ++h) {
        ref::rope_rotate(x.host_row<float>(t) + h * p.head_dim, c, c + p.head_dim / 2, p);
      }
    }
  });
}

void CpuDevice::store_rows(const Tensor& src, std::span<const int32_t> cache_rows, const Tensor& cache) {
  assert(src.cols == cache.cols);
  for (int64_t t = 0; t < src.rows; ++t) {
    assert(cache_rows[t] >= 0 && cache_rows[t] < cache.rows);
    const float* s = src.host_row<float>(t);
    if (cache.type == GgmlType::F16) {
      row_kernels_.to_f16(s, cache.host_row<uint16_t>(cache_rows[t]), src.cols);
    } else {
      float* d = cache.host_row<float>(cache_rows[t]);
      for (int64_t i = 0; i < src.cols; ++i) d[i] = s[i];
    }
  }
}

void CpuDevice::attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                          std::span<const int32_t> positions, const backend::KvPages& pages,
                          const backend::AttentionParams& p, const Tensor& out) {
  const int group = p.n_head / p.n_head_kv;
  const AttentionGroupF16Fn fast = k_cache.type == GgmlType::F16 ? find_attention_f16(isa_, p.head_dim) : nullptr;
  // The fast kernel takes query heads that share a KV head together (each key row is read once
  // for all of them), in as few pieces as still give every thread one.
  int heads_per_item = 1;
  if (fast) {
    for (int d = group; d > 1; --d) {
      if (group % d == 0 && q.rows * (p.n_head / d) >= pool_.size()) {
        heads_per_item = d;
        break;
      }
    }
  }
  const int items_per_row = p.n_head / heads_per_item;
  pool_.parallel_for_balanced(q.rows * items_per_row, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t t = i / items_per_row;
      const int h = static_cast<int>(i % items_per_row) * heads_per_item;
      const int64_t n_keys = positions[t] + 1;
      const int32_t* blocks = pages.block_table.data() + static_cast<size_t>(pages.row_seq[t]) * pages.max_blocks;
      const int64_t kv_offset = static_cast<int64_t>(h / group) * p.head_dim;
      const float* qh = q.host_row<float>(t) + h * p.head_dim;
      float* oh = out.host_row<float>(t) + h * p.head_dim;
      if (fast) {
        fast(qh, heads_per_item, k_cache.host_row<uint16_t>(0) + kv_offset, v_cache.host_row<uint16_t>(0) + kv_offset,
             k_cache.row_stride / sizeof(uint16_t), blocks, pages.block_size, p.head_dim, n_keys, p.scale, oh);
      } else {
        ref::attention_head(qh, k_cache.host_row<uint8_t>(0), v_cache.host_row<uint8_t>(0), k_cache.type,
                            k_cache.row_stride, kv_offset, blocks, pages.block_size, p.head_dim, n_keys, p.scale, oh);
      }
    }
  });
}

void CpuDevice::swiglu(const Tensor& gate, const Tensor& up, const Tensor& out) {
  // One row (a decode step) runs on the caller: it takes about a microsecond.
  pool_.parallel_for(gate.rows, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      row_kernels_.swiglu(gate.host_row<float>(t), up.host_row<float>(t), out.host_row<float>(t), gate.cols);
    }
  });
}

void CpuDevice::argmax_rows(const Tensor& x, std::span<int32_t> out) {
  if (x.type != GgmlType::F32 || static_cast<int64_t>(out.size()) != x.rows || x.cols <= 0) {
    Device::argmax_rows(x, out);  // throws, naming what is wrong
    return;
  }
  // Each row in one piece per thread (a vocabulary row is 0.5 MiB for Llama 3), then the first
  // of the pieces' largest values.
  const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(pool_.size(), x.cols / 4096));
  std::vector<int64_t> found(static_cast<size_t>(x.rows * pieces));
  pool_.parallel_for(x.rows * pieces, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t row = i / pieces, piece = i % pieces;
      const int64_t first = x.cols * piece / pieces, last = x.cols * (piece + 1) / pieces;
      const float* r = x.host_row<float>(row);
      found[static_cast<size_t>(i)] = first + row_kernels_.argmax(r + first, last - first);
    }
  });
  for (int64_t row = 0; row < x.rows; ++row) {
    const float* r = x.host_row<float>(row);
    int64_t best = found[static_cast<size_t>(row * pieces)];
    for (int64_t piece = 1; piece < pieces; ++piece) {
      const int64_t at = found[static_cast<size_t>(row * pieces + piece)];
      if (argmax_takes(r[at], r[best])) best = at;
    }
    out[static_cast<size_t>(row)] = static_cast<int32_t>(best);
  }
}

void CpuDevice::add(const Tensor& x, const Tensor& y) {
  for (int64_t t = 0; t < x.rows; ++t) {
    const float* a = x.host_row<float>(t);
    float* b = y.host_row<float>(t);
    for (int64_t i = 0; i < x.cols; ++i) b[i] += a[i];
  }
}

void CpuDevice::add_bias(const Tensor& bias, const Tensor& y) {
  std::vector<float> b(static_cast<size_t>(bias.cols));
  ref::to_f32(bias.type, bias.host_row<uint8_t>(0), b.data(), bias.cols);
  for (int64_t t = 0; t < y.rows; ++t) {
    float* r = y.host_row<float>(t);
    for (int64_t i = 0; i < y.cols; ++i) r[i] += b[static_cast<size_t>(i)];
  }
}

}  // namespace anychip::cpu
