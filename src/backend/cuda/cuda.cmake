# The CUDA backend: compiled in when nvcc is found (or forced with -DANYCHIP_CUDA=ON/OFF). Kernels
# (kernels/*.cu) are built for the GPU generations in ANYCHIP_CUDA_ARCHITECTURES: machine code for
# Ampere (sm_80, also runs on sm_86/87), Ada (sm_89) and Hopper (sm_90), plus sm_90 PTX that the
# driver compiles for newer GPUs. A build that only has to compile (CI without a GPU) can pass a
# single architecture, e.g. -DANYCHIP_CUDA_ARCHITECTURES=90-real.
include(CheckLanguage)
check_language(CUDA)
find_package(CUDAToolkit QUIET)
set(_anychip_cuda_default OFF)
if(CMAKE_CUDA_COMPILER AND TARGET CUDA::cublas AND TARGET CUDA::cudart_static)
  set(_anychip_cuda_default ON)
endif()
option(ANYCHIP_CUDA "Build the CUDA backend (needs nvcc and the CUDA toolkit with cuBLAS)" ${_anychip_cuda_default})
set(ANYCHIP_CUDA_ARCHITECTURES "80-real;89-real;90-real;90-virtual" CACHE STRING
    "CUDA architectures of the CUDA backend's kernels (CMAKE_CUDA_ARCHITECTURES syntax)")

set(ANYCHIP_CUDA_DIR ${CMAKE_CURRENT_LIST_DIR})
if(NOT ANYCHIP_CUDA)
  message(STATUS "anychip: CUDA backend OFF")
  return()
endif()
if(NOT CMAKE_CUDA_COMPILER OR NOT TARGET CUDA::cublas)
  message(FATAL_ERROR "ANYCHIP_CUDA=ON needs nvcc (set CUDACXX or put it on PATH) and the CUDA toolkit with cuBLAS")
endif()

set(CMAKE_CUDA_ARCHITECTURES ${ANYCHIP_CUDA_ARCHITECTURES})
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
# C++17: CMake 3.25 cannot ask nvcc for C++20; the device code and the headers it shares need
# nothing newer.
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_EXTENSIONS OFF)
message(STATUS "anychip: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")

file(GLOB ANYCHIP_CUDA_SOURCES CONFIGURE_DEPENDS ${ANYCHIP_CUDA_DIR}/*.cpp ${ANYCHIP_CUDA_DIR}/kernels/*.cu)
add_library(anychip_cuda STATIC ${ANYCHIP_CUDA_SOURCES})
target_include_directories(anychip_cuda PRIVATE ${PROJECT_SOURCE_DIR}/src)
# The static runtime keeps the binary starting on machines without the CUDA libraries' runtime
# package; cuBLAS is large and stays shared.
target_link_libraries(anychip_cuda PUBLIC anychip_gguf PRIVATE CUDA::cudart_static CUDA::cublas)
# --fmad=false: no implicit multiply-add fusion in device code either, so the block arithmetic
# shared with the host (kernels/block_math.h) rounds on the GPU exactly as it does in the host
# unit tests; kernels call fmaf where they mean a fused operation.
target_compile_options(anychip_cuda PRIVATE
  "$<$<COMPILE_LANGUAGE:CUDA>:--fmad=false;-Xcompiler=-Wall,-Wextra,-Wno-unused-parameter>")
