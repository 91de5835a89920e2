#pragma once
// Between the emulator's runtime (runtime.cpp) and its SIMT execution (simt.cpp).
#include <cuda_runtime.h>

#include <functional>

namespace cuda_emulator {

// Runs every block of the grid now (no launch checks: run_grid makes them).
void execute_grid(dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body);
void note_block();

}  // namespace cuda_emulator
