// Every matmul kernel that offers a load-time packed layout (MatmulKernels::pack), on every
// instruction set this CPU runs: every row unpacks to its own bytes, and gemm_packed on the packed
// copy gives exactly gemm's bits on the file's rows (same integer block sums, same float operations in the same order). Shapes leave
// the last 16-row group partial; row ranges start at every group; token counts cover the
// generation path and the prompt path of each family.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/kernels/kernel_families.h"
#include "backend/cpu/kernels/matmul_kernels.h"
#include "quant/quant.h"
#include "support/usable_isa.h"

namespace anychip::cpu {
namespace {

std::vector<float> normal_values(int64_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng) * scale;
  return v;
}

// Rows of different scales, some shifted (the min types), one all zero.
std::vector<uint8_t> random_weights(GgmlType type, int64_t rows, int64_t n, uint32_t seed) {
  const size_t rb = row_bytes(type, n);
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> row = normal_values(n, r == 2 ? 0.0f : std::ldexp(1.0f, static_cast<int>(r % 5) - 3), seed + r);
    if (r % 3 == 1) {
      for (float& x : row) x += 0.2f;
    }
    quant::quantize_row(type, row.data(), w.data() + rb * static_cast<size_t>(r), n);
  }
  return w;
}

std::vector<const MatmulKernels*> packed_kernels_here() {
  std::vector<const MatmulKernels*> out;
  for (auto family : {block32_kernels(), kquant_kernels(), float_kernels()}) {
    for (const MatmulKernels& k : family) {
      EXPECT_EQ(k.pack == nullptr, k.gemm_packed == nullptr) << type_traits(k.weight_type).name;
      EXPECT_EQ(k.pack == nullptr, k.unpack_row == nullptr) << type_traits(k.weight_type).name;
      if (k.pack && testing::usable_here(k.isa)) out.push_back(&k);
    }
  }
  return out;
}

TEST(PackedKernels, GemmPackedEqualsGemmBitForBit) {
  const std::vector<const MatmulKernels*> kernels = packed_kernels_here();
  if (kernels.empty()) GTEST_SKIP() << "no kernel with a packed layout on this CPU";
  struct Shape {
    int64_t n, rows;
  };
  for (const MatmulKernels* k : kernels) {
    const GgmlType type = k->weight_type;
    for (const Shape s : {Shape{256, 37}, Shape{4096, 21}, Shape{11008, 5}, Shape{512, 48}}) {
      if (s.n % type_traits(type).block_size != 0) continue;
      const size_t rb = row_bytes(type, s.n);
      const std::vector<uint8_t> w = random_weights(type, s.rows, s.n, static_cast<uint32_t>(s.n * 7 + s.rows));
      std::vector<uint8_t> packed(rb * static_cast<size_t>(packed_rows(s.rows)), 0xcd);
      k->pack(w.data(), rb, s.n, s.rows, packed.data());
      std::vector<uint8_t> row(rb);
      for (int64_t r = 0; r < s.rows; ++r) {
        k->unpack_row(packed.data(), rb, s.n, r, row.data());
        ASSERT_TRUE(std::equal(row.begin(), row.end(), w.begin() + static_cast<ptrdiff_t>(rb * r)))
            << type_traits(type).name << ": row " << r << " of " << s.rows << " does not unpack to its bytes";
      }
      for (int64_t n_tokens : {1, 2, 3, 4, 8, 9, 12, 33}) {
        const size_t x_stride = row_bytes(k->activation_type, s.n) + 64, y_stride = static_cast<size_t>(s.rows + 3);
        std::vector<uint8_t> x(x_stride * static_cast<size_t>(n_tokens), 0xcd);
        for (int64_t t = 0; t < n_tokens; ++t) {
          k->quantize(normal_values(s.n, 1.0f, static_cast<uint32_t>(77 * t + s.n)).data(), x.data() + t * x_stride, s.n);
        }
        for (int64_t begin = 0; begin < s.rows; begin += kPackRows) {
          for (int64_t end : {std::min(begin + kPackRows, s.rows), s.rows}) {
            SCOPED_TRACE(std::string(type_traits(type).name) + "/" + isa_name(k->isa) + " n=" + std::to_string(s.n) +
                         " rows=[" + std::to_string(begin) + "," + std::to_string(end) + ") of " +
                         std::to_string(s.rows) + " tokens=" + std::to_string(n_tokens));
            std::vector<float> expected(y_stride * static_cast<size_t>(n_tokens), NAN), y(expected.size(), NAN);
            k->gemm(w.data(), rb, s.n, x.data(), x_stride, n_tokens, expected.data(), y_stride, begin, end);
            k->gemm_packed(packed.data(), rb, s.n, x.data(), x_stride, n_tokens, y.data(), y_stride, begin, end);
            for (size_t i = 0; i < y.size(); ++i) {
              if (std::isnan(expected[i])) {
                ASSERT_TRUE(std::isnan(y[i])) << "wrote outside its rows at " << i;
              } else {
                ASSERT_EQ(std::bit_cast<uint32_t>(y[i]), std::bit_cast<uint32_t>(expected[i]))
                    << "at " << i << ": " << y[i] << " vs " << expected[i];
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace anychip::cpu
