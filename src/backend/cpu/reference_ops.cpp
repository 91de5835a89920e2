#include "backend/cpu/reference_ops.h"

#include <cassert>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "quant/quant.h"

namespace anychip::ref {

GgmlType activation_type_for(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q8_0: return GgmlType::Q8_0;
    case GgmlType::Q4_1: case GgmlType::Q5_1: return GgmlType::Q8_1;
    case GgmlType::Q2_K: case GgmlType::Q3_K: case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
      return GgmlType::Q8_K;
    case GgmlType::F16: return GgmlType::F16;
    case GgmlType::BF16: return GgmlType::BF16;
    default: return GgmlType::F32;
  }
}

// llama.cpp's x86 build quantizes activations to Q8_0/Q8_1 with SIMD code that differs from the
// scalar reference quantizer: the inverse scale is 127/amax rather than 1/(amax/127), halves
// round to even, and Q8_1's block sum s is d * sum(q) with the unrounded d. We follow the SIMD
// code, since that is what the reference logits were computed with.
static void round_q8_blocks(const float* x, float* out, int64_t n, float* sum_corrections) {
  for (int64_t b = 0; b < n; b += 32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b + j]));
    const float d = amax / 127.f;
    const float d16 = quant::fp16_to_fp32(quant::fp32_to_fp16(d));
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      const float q = std::nearbyint(x[b + j] * id);
      sum += static_cast<int>(q);
      out[b + j] = q * d16;
    }
    if (sum_corrections) {
      const float s16 = quant::fp16_to_fp32(quant::fp32_to_fp16(d * static_cast<float>(sum)));
      sum_corrections[b / 32] = s16 - d16 * static_cast<float>(sum);
    }
  }
}

void round_activations(GgmlType act_type, const float* x, float* out, int64_t n, float* sum_corrections) {
  switch (act_type) {
    case GgmlType::F32:
      std::copy(x, x + n, out);
      return;
    case GgmlType::Q8_0:
    case GgmlType::Q8_1:
      round_q8_blocks(x, out, n, act_type == GgmlType::Q8_1 ? sum_corrections : nullptr);
      return;
    default: {
      std::vector<uint8_t> packed(row_bytes(act_type, n));
      quant::quantize_row(act_type, x, packed.data(), n);
      quant::dequantize_row(act_type, packed.data(), out, n);
    }
  }
}

float min_term_correction(GgmlType weight_type, const uint8_t* w_row, int64_t n, const float* sum_corrections) {
  if (weight_type != GgmlType::Q4_1 && weight_type != GgmlType::Q5_1) return 0.0f;
  const size_t block_bytes = type_traits(weight_type).block_bytes;
  double acc = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    uint16_t m;  // both layouts start with f16 d, then f16 m
    std::memcpy(&m, w_row + static_cast<size_t>(b) * block_bytes + 2, sizeof m);
    acc += static_cast<double>(quant::fp16_to_fp32(m)) * sum_corrections[b];
  }
  return static_cast<float>(acc);
}

void to_f32(GgmlType type, const void* src, float* dst, int64_t n) { quant::dequantize_row(type, src, dst, n); }

float dot_f32(const float* a, const float* b, int64_t n) {
  // Several partial sums: keeps the reference accurate on long rows without being slow.
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(acc);
}

void matvec(GgmlType type, const uint8_t* w, size_t row_bytes, int64_t cols, const float* x_in, float* y,
            int64_t row_begin, int64_t row_end) {
  std::vector<float> row(static_cast<size_t>(cols)), x(static_cast<size_t>(cols)), corrections(static_cast<size_t>(cols / 32 + 1));
  round_activations(activation_type_for(type), x_in, x.data(), cols, corrections.data());
  for (int64_t j = row_begin; j < row_end; ++j) {
    to_f32(type, w + static_cast<size_t>(j) * row_bytes, row.data(), cols);
    const uint8_t* w_row = w + static_cast<size_t>(j) * row_bytes;
    y[j] = dot_f32(row.data(), x.data(), cols) + min_term_correction(type, w_row, cols, corrections.data());
  }
}

void rms_norm(const float* x, const float* weight, float eps, float* y, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * weight[i];
}

void rope_angles(int32_t position, const backend::RopeParams& p, float* cos_out, float* sin_out) {
  // theta_i = pos * base^(-2i/d), stepped by repeated multiplication as llama.cpp does, so the
  // angles (and their float rounding) match the reference.
  const float theta_scale = std::pow(p.theta, -2.0f / static_cast<float>(p.head_dim));
  float theta = static_cast<float>(position);
  for (int i = 0; i < p.head_dim / 2; ++i, theta *= theta_scale) {
    const float factor = p.freq_factors ? p.freq_factors[i] : 1.0f;
    const float angle = p.freq_scale * theta / factor;
    cos_out[i] = std::cos(angle);
    sin_out[i] = std::sin(angle);
  }
}

void rope_rotate(float* head, const float* cos_in, const float* sin_in, const backend::RopeParams& p) {
  const int half = p.head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const int a = p.style == backend::RopeStyle::Normal ? 2 * i : i;
    const int b = p.style == backend::RopeStyle::Normal ? 2 * i + 1 : i + half;
    const float x0 = head[a], x1 = head[b];
    head[a] = x0 * cos_in[i] - x1 * sin_in[i];
    head[b] = x0 * sin_in[i] + x1 * cos_in[i];
  }
}

void rope(float* head, int32_t position, const backend::RopeParams& p) {
  std::vector<float> c(static_cast<size_t>(p.head_dim / 2)), s(c.size());
  rope_angles(position, p, c.data(), s.data());
  rope_rotate(head, c.data(), s.data(), p);
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void attention_head(const float* q, const uint8_t* k_cache, const uint8_t* v_cache, GgmlType cache_type,
                    size_t cache_row_bytes, int64_t kv_offset_elems, const int32_t* blocks, int block_size,
                    int head_dim, int64_t n_keys, float scale, float* out) {
  // Mirrors llama.cpp's CPU flash attention with an f16 cache: the query is rounded to f16, the
  // softmax runs online (running max and sum), and the weighted sum of values is accumulated in
  // f16. Doing the same keeps logits within a small fraction of the reference tolerance.
  const bool half = cache_type == GgmlType::F16;
  auto round_acc = [half](float v) { return half ? quant::fp16_to_fp32(quant::fp32_to_fp16(v)) : v; };
  std::vector<float> row(static_cast<size_t>(head_dim)), qr(static_cast<size_t>(head_dim));
  std::vector<float> acc(static_cast<size_t>(head_dim), 0.0f);
  round_activations(cache_type, q, qr.data(), head_dim, nullptr);
  const size_t head_offset = static_cast<size_t>(kv_offset_elems) * (half ? 2 : 4);
  float running_max = -INFINITY, running_sum = 0.0f;
  for (int64_t k = 0; k < n_keys; ++k) {
    const size_t cache_row = static_cast<size_t>(blocks[k / block_size]) * block_size + static_cast<size_t>(k % block_size);
    to_f32(cache_type, k_cache + cache_row * cache_row_bytes + head_offset, row.data(), head_dim);
    const float score = dot_f32(qr.data(), row.data(), head_dim) * scale;
    float old_scale = 1.0f, weight = 1.0f;
    if (score > running_max) {
      old_scale = std::exp(running_max - score);
      running_max = score;
      for (auto& a : acc) a = round_acc(a * old_scale);
    } else {
      weight = std::exp(score - running_max);
    }
    to_f32(cache_type, v_cache + cache_row * cache_row_bytes + head_offset, row.data(), head_dim);
    for (int d = 0; d < head_dim; ++d) acc[d] = round_acc(std::fma(row[d], weight, acc[d]));
    running_sum = running_sum * old_scale + weight;
  }
  const float inv = running_sum > 0 ? 1.0f / running_sum : 0.0f;
  for (int d = 0; d < head_dim; ++d) out[d] = acc[d] * inv;
}

}  // namespace anychip::ref
