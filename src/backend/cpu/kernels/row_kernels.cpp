#include "backend/cpu/kernels/row_kernels.h"

#include <cmath>

#include "backend/cpu/kernels/x86_kernel_tables.h"
#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

void to_f16_portable(const float* x, uint16_t* out, int64_t n) { quant::quantize_row(GgmlType::F16, x, out, n); }

int64_t argmax_portable(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (argmax_takes(x[i], x[best])) best = i;
  }
  return best;
}

const RowKernels kPortable{Isa::Scalar, ref::swiglu, to_f16_portable, ref::rms_norm, argmax_portable};

}  // namespace

bool argmax_takes(float later, float best) { return later > best || (std::isnan(best) && !std::isnan(later)); }

const RowKernels& find_row_kernels(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  static const RowKernels avx2 = row_kernels_avx2();
  static const RowKernels avx512 = row_kernels_avx512();
  if (isa == Isa::Avx512 || isa == Isa::Avx512Vnni) return avx512;
  if (isa == Isa::Avx2) return avx2;
#endif
  (void)isa;
  return kPortable;
}

}  // namespace anychip::cpu
