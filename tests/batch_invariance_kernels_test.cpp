// Batch invariance of every fast matmul kernel: the result for one token must not depend on how
// many other tokens share the call. The serving engine relies on it: a request gives the same
// tokens alone and inside any batch (greedy decoding would otherwise flip on near-ties).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/kernels/kernel_families.h"
#include "backend/cpu/kernels/matmul_kernels.h"
#include "support/usable_isa.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

using testing::usable_here;

std::vector<const MatmulKernels*> all_kernels_here() {
  std::vector<const MatmulKernels*> out;
  for (auto family : {block32_kernels(), kquant_kernels(), float_kernels()}) {
    for (const MatmulKernels& k : family) {
      if (usable_here(k.isa)) out.push_back(&k);
    }
  }
  return out;
}

std::string label(const MatmulKernels& k) { return std::string(type_traits(k.weight_type).name) + "/" + isa_name(k.isa); }

bool is_float(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

// Row lengths: a short one, a long one (the float kernels' blocking over tokens and rows differs
// from generation's), and for the float types lengths that end in a partial vector step.
std::vector<int64_t> lengths_for(GgmlType t) {
  std::vector<int64_t> out = {512, 17 * 256};
  if (is_float(t)) out.insert(out.end(), {77, 1001});
  return out;
}

TEST(KernelBatchInvariance, EveryTokenGetsTheSameBitsAloneAndInAnyBatch) {
  constexpr int64_t rows = 40;  // not a multiple of 16
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr int64_t kMaxTokens = 33;
  for (const MatmulKernels* k : all_kernels_here()) {
    for (int64_t n : lengths_for(k->weight_type)) {
      SCOPED_TRACE(label(*k) + " n=" + std::to_string(n));
      std::vector<float> x(static_cast<size_t>(n * kMaxTokens));
      for (auto& v : x) v = normal(rng);
      std::vector<float> wf(static_cast<size_t>(n));
      const size_t rb = row_bytes(k->weight_type, n);
      std::vector<uint8_t> w(rb * rows);
      for (int64_t r = 0; r < rows; ++r) {
        for (auto& v : wf) v = normal(rng) * 0.1f;
        quant::quantize_row(k->weight_type, wf.data(), w.data() + rb * static_cast<size_t>(r), n);
      }
      const size_t xb = row_bytes(k->activation_type, n);
      std::vector<uint8_t> xq(xb * kMaxTokens);
      for (int64_t t = 0; t < kMaxTokens; ++t) k->quantize(&x[static_cast<size_t>(t * n)], &xq[xb * static_cast<size_t>(t)], n);
      std::vector<float> alone(static_cast<size_t>(rows * kMaxTokens));
      for (int64_t t = 0; t < kMaxTokens; ++t) {
        k->gemm(w.data(), rb, n, &xq[xb * static_cast<size_t>(t)], xb, 1, &alone[static_cast<size_t>(t * rows)], rows, 0, rows);
      }
      bool ok = true;
      for (int64_t batch : {2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 33}) {
        if (!ok) break;
        std::vector<float> got(static_cast<size_t>(rows * batch));
        // Uneven row ranges, as threads get them.
        k->gemm(w.data(), rb, n, xq.data(), xb, batch, got.data(), rows, 0, 7);
        k->gemm(w.data(), rb, n, xq.data(), xb, batch, got.data(), rows, 7, rows);
        for (int64_t t = 0; t < batch; ++t) {
          if (std::memcmp(&got[static_cast<size_t>(t * rows)], &alone[static_cast<size_t>(t * rows)], rows * sizeof(float)) != 0) {
            ADD_FAILURE() << label(*k) << " n=" << n << ": token " << t << " of a batch of " << batch
                          << " differs from the same token alone";
            ok = false;
            break;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace anychip::cpu
