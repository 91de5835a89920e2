# The CUDA backend built as plain C++ against a CPU emulation of the CUDA runtime, cuBLAS and the
# SIMT execution model (include/ replaces the CUDA headers), and the CUDA tests run on it: every
# kernel and all of the backend's host code (stream, graph capture and replay, scratch, uploads)
# is exercised on machines without a GPU or nvcc. The emulated backend lives in namespace
# anychip::cuda_emulated (-Dcuda=cuda_emulated), so it links beside the real one. Its tests are
# prefixed "Emulated/". Not under the sanitizers: ASan does not follow ucontext fibers.
if(ANYCHIP_SANITIZE)
  message(STATUS "anychip: CUDA emulation tests skipped under sanitizers")
  return()
endif()
set(_emu ${CMAKE_CURRENT_LIST_DIR})
file(GLOB _emu_backend CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/backend/cuda/*.cpp)
file(GLOB _emu_kernels CONFIGURE_DEPENDS ${_emu}/kernels_*.cpp)
add_library(anychip_cuda_emulated STATIC ${_emu_backend} ${_emu_kernels} ${_emu}/runtime.cpp ${_emu}/simt.cpp)
target_include_directories(anychip_cuda_emulated BEFORE PUBLIC ${_emu}/include)
target_include_directories(anychip_cuda_emulated PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_compile_definitions(anychip_cuda_emulated PUBLIC ANYCHIP_CUDA_EMULATION cuda=cuda_emulated)
target_link_libraries(anychip_cuda_emulated PUBLIC anychip_gguf Threads::Threads)
# A kernel's misaligned vector load (say a uint4 from a 2-byte aligned address) faults on the GPU;
# here it stops the test. (#pragma unroll means nothing to the host compiler.)
set_source_files_properties(${_emu_kernels} PROPERTIES COMPILE_OPTIONS
  "-fsanitize=alignment;-fno-sanitize-recover=alignment;-Wno-unknown-pragmas")
target_link_options(anychip_cuda_emulated PUBLIC -fsanitize=alignment)

add_executable(anychip_cuda_emulated_tests
  ${CMAKE_CURRENT_SOURCE_DIR}/cuda_matmul_test.cpp ${CMAKE_CURRENT_SOURCE_DIR}/cuda_ops_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/cuda_attention_test.cpp ${CMAKE_CURRENT_SOURCE_DIR}/cuda_model_test.cpp
  ${_emu}/emulator_test.cpp)
target_link_libraries(anychip_cuda_emulated_tests PRIVATE anychip_cuda_emulated anychip_model GTest::gtest_main)
target_compile_definitions(anychip_cuda_emulated_tests PRIVATE ANYCHIP_SHARED_DIR="${ANYCHIP_SHARED_DIR}")
target_compile_options(anychip_cuda_emulated_tests PRIVATE -Wno-missing-field-initializers)
target_include_directories(anychip_cuda_emulated_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})  # support/*.h
gtest_discover_tests(anychip_cuda_emulated_tests TEST_PREFIX "Emulated/" DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
