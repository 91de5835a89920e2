#pragma once
// Turns a run-time weight type into a template argument: f(TypeTag<T>{}) for the matching T.
// The callers have checked the type is one the backend supports (assert otherwise).
#include <cassert>

#include "gguf/ggml_type.h"

namespace anychip::cuda::kernels {

template <GgmlType T>
struct TypeTag {
  static constexpr GgmlType value = T;
};

template <class F>
void dispatch_float_type(GgmlType t, F&& f) {
  switch (t) {
    case GgmlType::F32: f(TypeTag<GgmlType::F32>{}); return;
    case GgmlType::F16: f(TypeTag<GgmlType::F16>{}); return;
    case GgmlType::BF16: f(TypeTag<GgmlType::BF16>{}); return;
    default: assert(false && "not a float type");
  }
}

template <class F>
void dispatch_quantized_type(GgmlType t, F&& f) {
  switch (t) {
    case GgmlType::Q4_0: f(TypeTag<GgmlType::Q4_0>{}); return;
    case GgmlType::Q4_1: f(TypeTag<GgmlType::Q4_1>{}); return;
    case GgmlType::Q5_0: f(TypeTag<GgmlType::Q5_0>{}); return;
    case GgmlType::Q5_1: f(TypeTag<GgmlType::Q5_1>{}); return;
    case GgmlType::Q8_0: f(TypeTag<GgmlType::Q8_0>{}); return;
    case GgmlType::Q2_K: f(TypeTag<GgmlType::Q2_K>{}); return;
    case GgmlType::Q3_K: f(TypeTag<GgmlType::Q3_K>{}); return;
    case GgmlType::Q4_K: f(TypeTag<GgmlType::Q4_K>{}); return;
    case GgmlType::Q5_K: f(TypeTag<GgmlType::Q5_K>{}); return;
    case GgmlType::Q6_K: f(TypeTag<GgmlType::Q6_K>{}); return;
    default: assert(false && "not a quantized weight type");
  }
}

inline bool is_float_type(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

template <class F>
void dispatch_weight_type(GgmlType t, F&& f) {
  if (is_float_type(t)) {
    dispatch_float_type(t, f);
  } else {
    dispatch_quantized_type(t, f);
  }
}

}  // namespace anychip::cuda::kernels
