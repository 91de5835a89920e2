// The argmax kernel compiled as C++ against the emulator (see include/cuda_runtime.h).
#include "backend/cuda/kernels/argmax.cu"
