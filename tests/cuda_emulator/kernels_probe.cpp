// The probe kernels compiled as C++ against the emulator (see include/cuda_runtime.h).
#include "backend/cuda/kernels/probe.cu"
