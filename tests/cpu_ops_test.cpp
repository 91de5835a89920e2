// The CPU device's row-wise and element-wise ops through the same checks as the GPU backends
// (support/op_checks.h), on two threads: whole rows and per-head groups with f32/f16/bf16 norm
// weights, rope at head sizes 64 and 128, swiglu, add, add_bias, store_rows bit for bit.
// (Attention is left out here: the CPU backend accumulates f16 caches in f16 as llama.cpp does,
// which the GPU checks' tight f32 bound does not allow; conformance tests cover it.)
#include <gtest/gtest.h>

#include "backend/registry.h"
#include "support/op_checks.h"

namespace anychip::testing {
namespace {

class CpuOps : public ::testing::Test, public DeviceOpChecks {
 protected:
  void SetUp() override {
    backend::DeviceOptions options;
    options.threads = 2;
    device_ = backend::create_device("cpu", options);
    dev = device_.get();
  }
  std::unique_ptr<backend::Device> device_;
};

TEST_F(CpuOps, RmsNormRowsGroupsAndInPlace) {
  check_rms_norm(640, {640, 64, 32}, {GgmlType::F32, GgmlType::F16, GgmlType::BF16});
}

TEST_F(CpuOps, RopeNormalAndNeoxWithFreqFactors) { check_rope({64, 128}); }

TEST_F(CpuOps, SwigluAddAndBias) { check_swiglu_add_and_bias(); }

TEST_F(CpuOps, ArgmaxRowsFindsTheFirstMaximum) { check_argmax_rows(); }

TEST_F(CpuOps, RopeAndStoreMatchesItsSteps) { check_rope_and_store(false); }

TEST_F(CpuOps, StoreRowsRoundsToHalfExactly) { check_store_rows(); }

}  // namespace
}  // namespace anychip::testing
