#include "router/worker.h"

#include <algorithm>

namespace anychip::router {

double PerfProfile::decode_tok_s(int batch) const {
  if (max_batch <= 1 || batch <= 1) return decode_tok_s_1;
  const int b = std::min(batch, max_batch);
  const double t = static_cast<double>(b - 1) / static_cast<double>(max_batch - 1);
  return decode_tok_s_1 + t * (decode_tok_s_max - decode_tok_s_1);
}

}  // namespace anychip::router
