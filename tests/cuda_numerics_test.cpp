// The CUDA backend's arithmetic, emulated on the CPU, against llama.cpp's logits. The CUDA
// kernels round differently from the CPU backend in two places: matmul (decode batches take
// dot products of the weights' integer quants with 8-bit activation chunks of 32; larger
// batches multiply f16-rounded weights and activations in cuBLAS) and attention (f32 value
// sums). This device runs every other op on the CPU backend and those two with the kernels'
// own block arithmetic (backend/cuda/kernels/block_math.h, the same code the kernels compile)
// and the same order of float operations within a warp. Every conformance case must stay within
// check.py's tolerances: the numerical design is verified here on machines without a GPU, and
// the GPU tests then check the kernels against this arithmetic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/reference_ops.h"
#include "backend/cuda/kernels/block_math.h"
#include "backend/cuda/kernels/dispatch.h"
#include "backend/registry.h"
#include "engine/generator.h"
#include "model/model.h"
#include "quant/quant.h"
#include "support/reference_file.h"

namespace anychip::testing {
namespace {

namespace blocks = cuda::blocks;
using cuda::kernels::TypeTag;

constexpr int kMatvecMaxTokens = 8;  // as cuda::kernels::kMatvecMaxTokens
constexpr int kWarp = 32;

// Lane 0's result of the kernels' butterfly reduction (v += shfl_xor(v, o), o = 16 .. 1).
float warp_sum(std::vector<float> v) {
  for (int o = kWarp / 2; o > 0; o /= 2) {
    std::vector<float> next(kWarp);
    for (int i = 0; i < kWarp; ++i) next[i] = v[i] + v[i ^ o];
    v = next;
  }
  return v[0];
}

float round_f16(float v) { return cuda::hd::round_to_half(v); }

template <GgmlType T>
void matvec_quantized(const uint8_t* w, size_t w_stride, int64_t rows, int64_t cols, const float* x, float* y) {
  const int64_t chunks = cols / 32;
  std::vector<int8_t> xq(static_cast<size_t>(cols));
  std::vector<blocks::XChunk> meta(static_cast<size_t>(chunks));
  for (int64_t c = 0; c < chunks; ++c) blocks::quantize_chunk(x + c * 32, &xq[c * 32], meta[c]);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> lanes(kWarp, 0.0f);
    for (int64_t c = 0; c < chunks; ++c) {
      blocks::Chunk ch;
      blocks::unpack_chunk<T>(w + r * w_stride, c, ch);
      int32_t q[8];
      std::memcpy(q, &xq[c * 32], sizeof q);
      lanes[c % kWarp] += blocks::dot_chunk<blocks::Format<T>::kOffset>(ch, q, meta[c]);
    }
    y[r] = warp_sum(lanes);
  }
}

template <GgmlType T>
void matvec_float(const uint8_t* w, size_t w_stride, int64_t rows, int64_t cols, const float* x, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> lanes(kWarp, 0.0f);
    for (int64_t e = 0; e < cols; ++e) {
      float xe = x[e];
      if (T == GgmlType::F16) xe = round_f16(xe);
      if (T == GgmlType::BF16) xe = cuda::hd::round_to_bf16(xe);
      lanes[e % kWarp] = std::fma(blocks::row_element<T>(w + r * w_stride, e), xe, lanes[e % kWarp]);
    }
    y[r] = warp_sum(lanes);
  }
}

// cuBLAS accumulates in f32 in an order of its choosing; double stands in for it.
template <GgmlType T>
void gemm_row(const uint8_t* w_row, int64_t cols, const float* x, float* y) {
  double acc = 0;
  if constexpr (T == GgmlType::F32) {
    for (int64_t e = 0; e < cols; ++e) acc += static_cast<double>(blocks::row_element<T>(w_row, e)) * x[e];
  } else if constexpr (T == GgmlType::F16 || T == GgmlType::BF16) {
    for (int64_t e = 0; e < cols; ++e) {
      const float xe = T == GgmlType::F16 ? round_f16(x[e]) : cuda::hd::round_to_bf16(x[e]);
      acc += static_cast<double>(blocks::row_element<T>(w_row, e)) * xe;
    }
  } else {
    for (int64_t c = 0; c < cols / 32; ++c) {
      blocks::Chunk ch;
      blocks::unpack_chunk<T>(w_row, c, ch);
      for (int i = 0; i < 32; ++i) {
        acc += static_cast<double>(round_f16(blocks::chunk_value(ch, i))) * round_f16(x[c * 32 + i]);
      }
    }
  }
  *y = static_cast<float>(acc);
}

class CudaNumericsDevice final : public backend::Device {
 public:
  CudaNumericsDevice() : cpu_(backend::create_device("cpu", {2})) {}

  const backend::DeviceInfo& info() const override { return cpu_->info(); }
  bool supports(backend::Op op, GgmlType type) const override { return cpu_->supports(op, type); }
  std::unique_ptr<backend::Buffer> alloc(size_t bytes) override { return cpu_->alloc(bytes); }
  std::unique_ptr<backend::Buffer> import_host(const void* data, size_t bytes) override {
    return cpu_->import_host(data, bytes);
  }
  void get_rows(const backend::Tensor& t, std::span<const int32_t> ids, const backend::Tensor& out) override {
    cpu_->get_rows(t, ids, out);
  }
  void rms_norm(const backend::Tensor& x, const backend::Tensor& w, float eps, const backend::Tensor& y) override {
    cpu_->rms_norm(x, w, eps, y);
  }
  void rope(const backend::Tensor& x, std::span<const int32_t> positions, const backend::RopeParams& p) override {
    cpu_->rope(x, positions, p);
  }
  void store_rows(const backend::Tensor& src, std::span<const int32_t> rows, const backend::Tensor& cache) override {
    cpu_->store_rows(src, rows, cache);
  }
  void swiglu(const backend::Tensor& g, const backend::Tensor& u, const backend::Tensor& out) override {
    cpu_->swiglu(g, u, out);
  }
  void add(const backend::Tensor& x, const backend::Tensor& y) override { cpu_->add(x, y); }
  void add_bias(const backend::Tensor& b, const backend::Tensor& y) override { cpu_->add_bias(b, y); }
  void synchronize() override { cpu_->synchronize(); }

  void matmul(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y) override {
    const auto* wb = w.host_row<uint8_t>(0);
    cuda::kernels::dispatch_weight_type(w.type, [&](auto tag) {
      constexpr GgmlType T = decltype(tag)::value;
      for (int64_t t = 0; t < x.rows; ++t) {
        const float* xr = x.host_row<float>(t);
        float* yr = y.host_row<float>(t);
        if (x.rows > kMatvecMaxTokens) {
          for (int64_t r = 0; r < w.rows; ++r) gemm_row<T>(wb + r * w.row_stride, w.cols, xr, &yr[r]);
        } else if constexpr (T == GgmlType::F32 || T == GgmlType::F16 || T == GgmlType::BF16) {
          matvec_float<T>(wb, w.row_stride, w.rows, w.cols, xr, yr);
        } else {
          matvec_quantized<T>(wb, w.row_stride, w.rows, w.cols, xr, yr);
        }
      }
    });
  }

  // f32 sums over the cache widened to f32, the query rounded to f16 for an f16 cache.
  void attention(const backend::Tensor& q, const backend::Tensor& k_cache, const backend::Tensor& v_cache,
                 std::span<const int32_t> positions, const backend::KvPages& pages, const backend::AttentionParams& p,
                 const backend::Tensor& out) override {
    const int64_t n = k_cache.rows * k_cache.cols;
    std::vector<float> k32(static_cast<size_t>(n)), v32(k32.size());
    ref::to_f32(k_cache.type, k_cache.host_row<uint8_t>(0), k32.data(), n);
    ref::to_f32(v_cache.type, v_cache.host_row<uint8_t>(0), v32.data(), n);
    std::vector<float> qh(static_cast<size_t>(p.head_dim));
    for (int64_t t = 0; t < q.rows; ++t) {
      const int32_t* blocks = &pages.block_table[static_cast<size_t>(pages.row_seq[t]) * pages.max_blocks];
      for (int h = 0; h < p.n_head; ++h) {
        const float* qr = q.host_row<float>(t) + static_cast<int64_t>(h) * p.head_dim;
        for (int d = 0; d < p.head_dim; ++d) qh[d] = k_cache.type == GgmlType::F16 ? round_f16(qr[d]) : qr[d];
        const int64_t kv_offset = static_cast<int64_t>(h / (p.n_head / p.n_head_kv)) * p.head_dim;
        ref::attention_head(qh.data(), reinterpret_cast<const uint8_t*>(k32.data()),
                            reinterpret_cast<const uint8_t*>(v32.data()), GgmlType::F32, k_cache.cols * sizeof(float),
                            kv_offset, blocks, pages.block_size, p.head_dim, positions[t] + 1, p.scale,
                            out.host_row<float>(t) + static_cast<int64_t>(h) * p.head_dim);
      }
    }
  }

 private:
  std::unique_ptr<backend::Device> cpu_;
};

std::vector<ReferenceCase> all_cases() {
  const std::filesystem::path shared = ANYCHIP_SHARED_DIR;
  return find_reference_cases({shared / "conformance", shared / "models"});
}

class CudaNumerics : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(CudaNumerics, EmulatedKernelArithmeticMatchesLlamaCpp) {
  ReferenceCase c = GetParam();
  c.load();
  CudaNumericsDevice device;
  auto model = model::Model::load(c.model.string(), device);
  const std::vector<int32_t> prompt_ids = model->tokenizer().encode(c.prompt(), true, true);
  ASSERT_EQ(prompt_ids, c.tokens);

  const int steps = static_cast<int>(c.greedy.size());
  model::KvCache cache = model->make_cache(static_cast<int64_t>(prompt_ids.size()) + steps + 1);
  engine::SamplingParams greedy;
  greedy.temperature = 0;
  engine::Sampler sampler(greedy);
  engine::GenerateOptions opts;
  opts.n_predict = steps;
  opts.stop_at_eos = false;
  opts.collect_logits = true;
  const engine::GenerateResult r = engine::generate(*model, cache, prompt_ids, opts, sampler);
  ASSERT_EQ(r.logits.size(), c.steps.size());

  const double tol = c.tolerance();
  double worst = 0;
  for (int k = 0; k <= steps; ++k) {
    const ReferenceCase::Step& ref = c.steps[k];
    double err = 0;
    for (const auto& [id, value] : ref.kept) err = std::max(err, std::abs(double(r.logits[k][id]) - value));
    worst = std::max(worst, err / ref.range);
    EXPECT_LE(err / ref.range, tol) << "step " << k;
    if (k == steps) break;
    if (r.ids[k] != c.greedy[k]) {
      EXPECT_LE(ref.top_margin / ref.range, 2 * tol) << "step " << k << ": id " << r.ids[k] << " != " << c.greedy[k];
      break;
    }
  }
  std::printf("[ numerics ] %s: worst error %.2e of the logit range (tolerance %.0e)\n", c.name.c_str(), worst, tol);
}

INSTANTIATE_TEST_SUITE_P(Reference, CudaNumerics, ::testing::ValuesIn(all_cases()), [](const auto& info) {
  std::string n = info.param.name;
  std::replace_if(n.begin(), n.end(), [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
  return n;
});

}  // namespace
}  // namespace anychip::testing
