// Standalone matmul-kernel checker (no GoogleTest, so it cross-compiles with nothing but a C++
// compiler; scripts/test-neon.sh runs it for aarch64 under qemu). For every weight type it checks
// the kernels find_matmul_kernels returns for Isa::Neon, Isa::Scalar and this CPU's detect_isa()
// against the reference ops:
//   quant:  activation quantization is bit-exact: the partner-format bytes equal the scalar
//           kernel's / quant::quantize_row's, and dequantized they equal ref::round_activations
//           (plus, for Q8_1, the stored block sum s gives the same correction);
//   gemm:   y equals ref::matvec within 1e-5 of sum|w * x| for several shapes, row ranges and
//           token counts, with padded strides, and nothing is written outside the row range;
//   batch:  every token's y is bit-identical alone and inside batches of any size (with the
//           rows split unevenly, as threads get them): the serving engine relies on it.
// On aarch64 it also requires that Isa::Neon resolves to a NEON kernel for every type.
// Prints one line per case and finally "N passed, M failed"; exits 0 only if M == 0 and N > 0.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/kernels/matmul_kernels.h"
#include "backend/cpu/reference_ops.h"
#include "quant/blocks.h"
#include "quant/quant.h"

namespace {

using namespace anychip;
using anychip::cpu::Isa;
using anychip::cpu::MatmulKernels;

int g_passed = 0, g_failed = 0;

void report(bool ok, const std::string& what, const std::string& detail) {
  (ok ? g_passed : g_failed)++;
  std::printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", what.c_str(), detail.empty() ? "" : "  ", detail.c_str());
  std::fflush(stdout);
}

bool is_block32(GgmlType t) {
  return t == GgmlType::Q4_0 || t == GgmlType::Q4_1 || t == GgmlType::Q5_0 || t == GgmlType::Q5_1 ||
         t == GgmlType::Q8_0;
}
bool is_float(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

std::string name(const MatmulKernels& k) {
  return std::string(type_traits(k.weight_type).name) + "/" + cpu::isa_name(k.isa);
}

// Activations with what matters to the rounding: mixed magnitudes and outliers, an all-zero
// block, a block of tiny negatives; for the K-quant formats also blocks whose largest magnitude
// is negative, +-max ties, equal values, halves (exact ties in x * iscale), huge and denormal
// blocks (the inverse scale overflows); for the half formats f16/bf16 ties, overflow, subnormals.
std::vector<float> make_activations(GgmlType type, int64_t n, uint32_t seed, bool extremes) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng);
  for (int64_t i = 0; i < n; i += 97) x[static_cast<size_t>(i)] *= 40.0f;
  if (n >= 64) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);
  if (n >= 128) {
    for (int i = 96; i < 128; ++i) x[static_cast<size_t>(i)] = -std::fabs(x[static_cast<size_t>(i)]) * 1e-3f;
  }
  if (!extremes) return x;
  if (is_float(type) && n >= 8) {
    x[0] = 1.0f + std::ldexp(1.0f, -11);  // f16 tie -> even
    x[1] = 1.0f + 3 * std::ldexp(1.0f, -11);
    x[2] = 70000.0f;                       // beyond f16
    x[3] = 1.0f + std::ldexp(1.0f, -8);    // bf16 tie
    x[4] = 3e-7f;                          // f16 subnormal
    x[5] = -65520.0f;                      // rounds to -inf in f16
    x[6] = std::nanf("");
    x[7] = -std::numeric_limits<float>::infinity();
  }
  if (is_block32(type) && n >= 256) {
    // amax 127 makes id = 1: x * id lands exactly on halves, which round to even.
    float* p = &x[160];
    p[0] = -127.0f;
    for (int j = 1; j < 32; ++j) p[j] = static_cast<float>(j - 16) + 0.5f;
  }
  if (!is_float(type) && !is_block32(type)) {
    for (int64_t b = 1; b < n / 256; ++b) {
      float* p = &x[static_cast<size_t>(b * 256)];
      switch (b % 8) {
        case 1: std::fill(p, p + 256, 0.37f); break;
        case 2: p[rng() % 256] = -9.5f; break;
        case 3: p[17] = -6.0f; p[200] = 6.0f; break;
        case 4: p[3] = 6.0f; p[90] = -6.0f; break;
        case 5: for (int i = 0; i < 256; ++i) p[i] *= 1e30f; break;
        case 6: for (int i = 0; i < 256; ++i) p[i] *= 1e-41f; break;
        case 7:
          for (int i = 0; i < 256; ++i) p[i] = static_cast<float>(static_cast<int>(rng() % 5) - 2) * 0.25f;
          break;
        default: {
          // Near ties: iscale * x within rounding of k + 0.5, where rounding the product first
          // (what the reference's source says) and a fused multiply-add can disagree.
          p[0] = 3.0f;
          const float iscale = -127.f / 3.0f;
          for (int j = 1; j < 256; ++j) p[j] = (static_cast<float>(j % 254 - 127) + 0.5f) / iscale;
          break;
        }
      }
    }
  }
  return x;
}

// rows x n weights of `type`: rows of different scales, one zero row, asymmetric rows (mins),
// outliers.
std::vector<uint8_t> make_weights(GgmlType type, int64_t rows, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const size_t rb = row_bytes(type, n);
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    const float scale = r == 2 ? 0.0f : std::ldexp(1.0f, static_cast<int>(r % 7) - 4);
    const float shift = (r % 3 == 1) ? 0.3f * scale : 0.0f;
    for (auto& v : row) v = normal(rng) * scale + shift;
    if (r % 5 == 4) {
      for (int64_t i = 0; i < n; i += 37) row[static_cast<size_t>(i)] *= 20.0f;
    }
    quant::quantize_row(type, row.data(), w.data() + rb * static_cast<size_t>(r), n);
  }
  return w;
}

// The kernels to check for `type`: NEON, scalar and whatever this CPU would use (deduplicated).
std::vector<const MatmulKernels*> kernels_for(GgmlType type) {
  std::vector<const MatmulKernels*> out;
  for (Isa isa : {Isa::Neon, Isa::Scalar, cpu::detect_isa()}) {
    const MatmulKernels* k = cpu::find_matmul_kernels(type, isa);
    if (!k) continue;
    bool seen = false;
    for (const MatmulKernels* o : out) seen = seen || o == k;
    if (!seen) out.push_back(k);
  }
  return out;
}

void check_registry(GgmlType type) {
  const std::string what = std::string("registry ") + type_traits(type).name;
  const MatmulKernels* neon = cpu::find_matmul_kernels(type, Isa::Neon);
  const MatmulKernels* scalar = cpu::find_matmul_kernels(type, Isa::Scalar);
  const GgmlType act = ref::activation_type_for(type);
  bool ok = neon && scalar && scalar->isa == Isa::Scalar && neon->activation_type == act &&
            scalar->activation_type == act && neon->weight_type == type;
#if defined(__aarch64__)
  ok = ok && neon->isa == Isa::Neon;
#endif
  report(ok, what, neon ? std::string("neon lookup -> ") + cpu::isa_name(neon->isa) : "no kernel");
}

void check_quantize(GgmlType type, const MatmulKernels& k, int64_t n) {
  const GgmlType act = k.activation_type;
  const std::vector<float> x = make_activations(type, n, static_cast<uint32_t>(n * 7 + 1), true);
  std::vector<float> expected(static_cast<size_t>(n)), got(static_cast<size_t>(n));
  std::vector<float> corrections(static_cast<size_t>(n / 32 + 1));
  ref::round_activations(act, x.data(), expected.data(), n, corrections.data());
  const size_t bytes = row_bytes(act, n);
  // The packed bytes must equal the portable kernel's (Q8_0/Q8_1) or the reference quantizer's.
  std::vector<uint8_t> want(bytes), packed(bytes + 16, 0xcd);
  if (is_block32(type)) {
    cpu::find_matmul_kernels(type, Isa::Scalar)->quantize(x.data(), want.data(), n);
  } else {
    quant::quantize_row(act, x.data(), want.data(), n);
  }
  k.quantize(x.data(), packed.data(), n);
  std::string detail;
  if (std::memcmp(packed.data(), want.data(), bytes) != 0) {
    for (size_t i = 0; i < bytes; ++i) {
      if (packed[i] != want[i]) {
        detail = "byte " + std::to_string(i) + " differs: " + std::to_string(packed[i]) + " vs " + std::to_string(want[i]);
        break;
      }
    }
  }
  for (size_t i = bytes; i < bytes + 16 && detail.empty(); ++i) {
    if (packed[i] != 0xcd) detail = "wrote past the end of the row";
  }
  if (detail.empty()) {
    quant::dequantize_row(act, packed.data(), got.data(), n);
    for (int64_t i = 0; i < n && detail.empty(); ++i) {
      // Bit for bit for the float formats; by value for 8-bit blocks (q = 0 reads back as +0).
      const bool same = is_float(type) ? std::memcmp(&got[i], &expected[i], 4) == 0 : got[i] == expected[i];
      if (!same && !(std::isnan(got[i]) && std::isnan(expected[i]))) {
        detail = "element " + std::to_string(i) + ": " + std::to_string(got[i]) + " vs " + std::to_string(expected[i]);
      }
    }
  }
  if (detail.empty() && act == GgmlType::Q8_1) {
    const auto* blocks = reinterpret_cast<const quant::BlockQ8_1*>(packed.data());
    for (int64_t b = 0; b < n / 32 && detail.empty(); ++b) {
      int sum = 0;
      for (int8_t q : blocks[b].qs) sum += q;
      const float d16 = quant::fp16_to_fp32(blocks[b].d);
      const float correction = quant::fp16_to_fp32(blocks[b].s) - d16 * static_cast<float>(sum);
      if (correction != corrections[static_cast<size_t>(b)]) detail = "block sum s of block " + std::to_string(b);
    }
  }
  report(detail.empty(), "quant " + name(k) + " n=" + std::to_string(n), detail);
}

void check_gemm(GgmlType type, const std::vector<const MatmulKernels*>& kernels, int64_t n, int64_t rows,
                int64_t n_tokens) {
  const GgmlType act = ref::activation_type_for(type);
  const size_t rb = row_bytes(type, n);
  const std::vector<uint8_t> w = make_weights(type, rows, n, static_cast<uint32_t>(n * 31 + rows));
  const size_t x_stride = row_bytes(act, n) + 64, y_stride = static_cast<size_t>(rows + 3);
  std::vector<std::vector<float>> xs;
  std::vector<float> expected(y_stride * static_cast<size_t>(n_tokens)), bound(expected.size());
  std::vector<float> w_f32(static_cast<size_t>(n)), x_rounded(static_cast<size_t>(n)),
      corrections(static_cast<size_t>(n / 32 + 1));
  for (int64_t t = 0; t < n_tokens; ++t) {
    xs.push_back(make_activations(type, n, static_cast<uint32_t>(1000 * t + n + rows), false));
    ref::matvec(type, w.data(), rb, n, xs.back().data(), &expected[static_cast<size_t>(t) * y_stride], 0, rows);
    ref::round_activations(act, xs.back().data(), x_rounded.data(), n, corrections.data());
    for (int64_t r = 0; r < rows; ++r) {
      ref::to_f32(type, w.data() + rb * static_cast<size_t>(r), w_f32.data(), n);
      double sum_abs = 0;
      for (int64_t i = 0; i < n; ++i) sum_abs += std::fabs(static_cast<double>(w_f32[i]) * x_rounded[i]);
      bound[static_cast<size_t>(t) * y_stride + static_cast<size_t>(r)] = static_cast<float>(sum_abs);
    }
  }
  // Row ranges as the device hands them to threads: all, the first, a middle slice, the last.
  std::vector<std::pair<int64_t, int64_t>> ranges = {{0, rows}};
  if (rows > 1) ranges.push_back({0, 1});
  if (rows > 4) ranges.push_back({rows / 3, rows - 2});
  if (rows > 1) ranges.push_back({rows - 1, rows});
  for (const MatmulKernels* k : kernels) {
    std::vector<uint8_t> x(x_stride * static_cast<size_t>(n_tokens), 0xcd);
    for (int64_t t = 0; t < n_tokens; ++t) k->quantize(xs[t].data(), x.data() + static_cast<size_t>(t) * x_stride, n);
    std::string detail;
    double worst = 0;  // largest |error| / tolerance seen
    for (auto [begin, end] : ranges) {
      std::vector<float> y(expected.size(), NAN);
      k->gemm(w.data(), rb, n, x.data(), x_stride, n_tokens, y.data(), y_stride, begin, end);
      for (int64_t t = 0; t < n_tokens && detail.empty(); ++t) {
        for (int64_t r = 0; r < static_cast<int64_t>(y_stride) && detail.empty(); ++r) {
          const size_t i = static_cast<size_t>(t) * y_stride + static_cast<size_t>(r);
          const std::string where = "rows [" + std::to_string(begin) + "," + std::to_string(end) + ") token " +
                                    std::to_string(t) + " row " + std::to_string(r);
          if (r < begin || r >= end) {
            if (!std::isnan(y[i])) detail = "wrote outside its rows: " + where;
            continue;
          }
          const double tol = 1e-5 * bound[i] + 1e-30;
          const double err = std::fabs(static_cast<double>(y[i]) - expected[i]);
          if (!(err <= tol)) {
            detail = where + ": got " + std::to_string(y[i]) + " want " + std::to_string(expected[i]) +
                     " tol " + std::to_string(tol);
          }
          worst = std::max(worst, err / tol);
        }
      }
      if (!detail.empty()) break;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "max err/tol %.3g", worst);
    report(detail.empty(),
           "gemm " + name(*k) + " n=" + std::to_string(n) + " rows=" + std::to_string(rows) +
               " tokens=" + std::to_string(n_tokens),
           detail.empty() ? buf : detail);
  }
}

void check_batch_invariance(GgmlType type, const std::vector<const MatmulKernels*>& kernels, int64_t n) {
  constexpr int64_t rows = 19, kMaxTokens = 13;
  const GgmlType act = ref::activation_type_for(type);
  const size_t rb = row_bytes(type, n), xb = row_bytes(act, n);
  const std::vector<uint8_t> w = make_weights(type, rows, n, static_cast<uint32_t>(n * 17 + 5));
  for (const MatmulKernels* k : kernels) {
    std::vector<uint8_t> x(xb * kMaxTokens);
    for (int64_t t = 0; t < kMaxTokens; ++t) {
      const std::vector<float> xf = make_activations(type, n, static_cast<uint32_t>(77 * t + n), false);
      k->quantize(xf.data(), x.data() + static_cast<size_t>(t) * xb, n);
    }
    std::vector<float> alone(static_cast<size_t>(rows * kMaxTokens));
    for (int64_t t = 0; t < kMaxTokens; ++t) {
      k->gemm(w.data(), rb, n, x.data() + static_cast<size_t>(t) * xb, xb, 1, &alone[static_cast<size_t>(t * rows)], rows, 0,
              rows);
    }
    std::string detail;
    for (int64_t batch : {2, 3, 4, 5, 8, 9, 13}) {
      std::vector<float> got(static_cast<size_t>(rows * batch));
      k->gemm(w.data(), rb, n, x.data(), xb, batch, got.data(), rows, 0, 7);
      k->gemm(w.data(), rb, n, x.data(), xb, batch, got.data(), rows, 7, rows);
      for (int64_t t = 0; t < batch && detail.empty(); ++t) {
        if (std::memcmp(&got[static_cast<size_t>(t * rows)], &alone[static_cast<size_t>(t * rows)], rows * sizeof(float)) != 0) {
          detail = "token " + std::to_string(t) + " of a batch of " + std::to_string(batch) + " differs from it alone";
        }
      }
      if (!detail.empty()) break;
    }
    report(detail.empty(), "batch " + name(*k) + " n=" + std::to_string(n), detail);
  }
}

}  // namespace

int main() {
  std::printf("kernel_check: cpu isa %s, aarch64 %s, dotprod %s\n", cpu::isa_name(cpu::detect_isa()),
#if defined(__aarch64__)
              "yes",
#else
              "no",
#endif
#if defined(__ARM_FEATURE_DOTPROD)
              "yes"
#else
              "no"
#endif
  );
  const GgmlType types[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                            GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                            GgmlType::F32,  GgmlType::F16,  GgmlType::BF16};
  for (GgmlType type : types) {
    check_registry(type);
    const std::vector<const MatmulKernels*> kernels = kernels_for(type);
    std::vector<int64_t> quant_sizes = {256, 4096};
    if (is_float(type)) quant_sizes.insert(quant_sizes.end(), {7, 77, 1001});
    for (const MatmulKernels* k : kernels) {
      for (int64_t n : quant_sizes) check_quantize(type, *k, n);
    }
    std::vector<int64_t> sizes = {256, 4096};
    if (is_float(type)) sizes.insert(sizes.end(), {77, 8});
    for (int64_t n : sizes) {
      for (int64_t rows : {1, 5, 19}) {
        for (int64_t n_tokens : {1, 3, 8}) check_gemm(type, kernels, n, rows, n_tokens);
      }
      check_batch_invariance(type, kernels, n);
    }
  }
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 && g_passed > 0 ? 0 : 1;
}
