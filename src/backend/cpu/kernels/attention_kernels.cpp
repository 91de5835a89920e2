#include "backend/cpu/kernels/attention_kernels.h"

namespace anychip::cpu {

#if defined(__x86_64__)
AttentionGroupF16Fn attention_f16_avx2();
AttentionGroupF16Fn attention_f16_avx512();  // head sizes 64 and 128
#endif

AttentionGroupF16Fn find_attention_f16(Isa isa, int head_dim) {
  if (head_dim % 16 != 0 || head_dim > 256) return nullptr;
#if defined(__x86_64__)
  if ((isa == Isa::Avx512 || isa == Isa::Avx512Vnni) && (head_dim == 64 || head_dim == 128)) return attention_f16_avx512();
  if (isa == Isa::Avx2 || isa == Isa::Avx512 || isa == Isa::Avx512Vnni) return attention_f16_avx2();
#endif
  (void)isa;
  return nullptr;
}

}  // namespace anychip::cpu
