#include "backend/device.h"

#include <algorithm>
#include <string>
#include <vector>

#include "util/error.h"

namespace anychip::backend {

void Device::argmax_rows(const Tensor& x, std::span<int32_t> out) {
  if (x.type != GgmlType::F32 || static_cast<int64_t>(out.size()) != x.rows || x.cols <= 0) {
    throw Error("argmax_rows: expects f32 rows and one output per row, got " + std::to_string(out.size()) + " outputs for " +
                std::to_string(x.rows) + " rows");
  }
  synchronize();
  const auto* host = static_cast<const uint8_t*>(x.buffer->host_ptr());
  std::vector<float> copy(host ? 0 : static_cast<size_t>(x.cols));
  for (int64_t r = 0; r < x.rows; ++r) {
    const size_t at = x.offset + static_cast<size_t>(r) * x.row_stride;
    const float* row = copy.data();
    if (host) {
      row = reinterpret_cast<const float*>(host + at);  // scanned where it lies
    } else {
      x.buffer->read(at, copy.data(), copy.size() * sizeof(float));
    }
    out[static_cast<size_t>(r)] = static_cast<int32_t>(std::max_element(row, row + x.cols) - row);
  }
}

}  // namespace anychip::backend
