# The Vulkan backend: compiled in when the Vulkan headers, loader and glslc are found (or forced
# with -DANYCHIP_VULKAN=ON/OFF). Its GLSL compute shaders are compiled to SPIR-V at build time, one
# file per feature variant, and embedded in the binary as byte arrays (see embed_spirv.cmake), so
# the executable needs no shader files at run time.
find_package(Vulkan QUIET)
find_program(ANYCHIP_GLSLC glslc)
set(_anychip_vulkan_default OFF)
if(Vulkan_FOUND AND ANYCHIP_GLSLC)
  set(_anychip_vulkan_default ON)
endif()
option(ANYCHIP_VULKAN "Build the Vulkan backend (needs Vulkan headers + loader and glslc)" ${_anychip_vulkan_default})

set(ANYCHIP_VULKAN_DIR ${CMAKE_CURRENT_LIST_DIR})
file(GLOB ANYCHIP_VULKAN_SOURCES CONFIGURE_DEPENDS ${ANYCHIP_VULKAN_DIR}/*.cpp)

if(NOT ANYCHIP_VULKAN)
  message(STATUS "anychip: Vulkan backend OFF")
  return()
endif()
if(NOT Vulkan_FOUND OR NOT ANYCHIP_GLSLC)
  message(FATAL_ERROR "ANYCHIP_VULKAN=ON needs the Vulkan headers and loader (libvulkan-dev) and glslc")
endif()
message(STATUS "anychip: Vulkan backend ON (glslc: ${ANYCHIP_GLSLC})")

# Each shader lists the device features it has variants for: subgroup (subgroup arithmetic),
# s16 (16-bit storage), s8 (8-bit storage). Every combination is compiled; at run time the
# device's features pick one, and ANYCHIP_VULKAN_DISABLE can force the fallbacks.
set(ANYCHIP_VULKAN_SHADERS
  "matvec:subgroup"
  "get_rows:s16,s8"
  "rms_norm:subgroup,s16,s8"
  "rope:"
  "store_rows:"
  "attention:subgroup,s16"
  "attention_split:subgroup"
  "attention_merge:"
  "swiglu:"
  "add:"
  "add_bias:s16,s8"
  "read_probe:"
)
set(_feature_bit_subgroup 1)
set(_feature_bit_s16 2)
set(_feature_bit_s8 4)
set(_feature_define_subgroup USE_SUBGROUP)
set(_feature_define_s16 USE_16BIT)
set(_feature_define_s8 USE_8BIT)

file(GLOB ANYCHIP_VULKAN_SHADER_INCLUDES CONFIGURE_DEPENDS ${ANYCHIP_VULKAN_DIR}/shaders/*.glsl)
set(_spv_dir ${CMAKE_BINARY_DIR}/vulkan_spirv)
file(MAKE_DIRECTORY ${_spv_dir})
set(_spv_files)
set(_spv_entries)  # name|mask|file
foreach(entry ${ANYCHIP_VULKAN_SHADERS})
  string(REPLACE ":" ";" parts "${entry}")
  list(GET parts 0 name)
  list(LENGTH parts n_parts)
  set(features)
  if(n_parts GREATER 1)
    list(GET parts 1 flist)
    string(REPLACE "," ";" features "${flist}")
  endif()
  list(LENGTH features n_features)
  math(EXPR n_variants "1 << ${n_features}")
  math(EXPR last_variant "${n_variants} - 1")
  foreach(v RANGE 0 ${last_variant})
    set(mask 0)
    set(defines)
    set(i 0)
    foreach(f ${features})
      math(EXPR bit_on "(${v} >> ${i}) & 1")
      list(APPEND defines "-D${_feature_define_${f}}=${bit_on}")
      if(bit_on)
        math(EXPR mask "${mask} | ${_feature_bit_${f}}")
      endif()
      math(EXPR i "${i} + 1")
    endforeach()
    set(out ${_spv_dir}/${name}.${mask}.spv)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${ANYCHIP_GLSLC} --target-env=vulkan1.1 -O -fshader-stage=compute ${defines}
              -I${ANYCHIP_VULKAN_DIR}/shaders -o ${out} ${ANYCHIP_VULKAN_DIR}/shaders/${name}.comp
      DEPENDS ${ANYCHIP_VULKAN_DIR}/shaders/${name}.comp ${ANYCHIP_VULKAN_SHADER_INCLUDES}
      COMMENT "glslc ${name}.comp (variant ${mask})"
      VERBATIM)
    list(APPEND _spv_files ${out})
    list(APPEND _spv_entries "${name}|${mask}|${out}")
  endforeach()
endforeach()

set(_embedded_cpp ${CMAKE_BINARY_DIR}/vulkan_shaders_embedded.cpp)
string(REPLACE ";" "\\;" _entries_arg "${_spv_entries}")
add_custom_command(
  OUTPUT ${_embedded_cpp}
  COMMAND ${CMAKE_COMMAND} "-DENTRIES=${_spv_entries}" -DOUT=${_embedded_cpp}
          -P ${ANYCHIP_VULKAN_DIR}/embed_spirv.cmake
  DEPENDS ${_spv_files} ${ANYCHIP_VULKAN_DIR}/embed_spirv.cmake
  COMMENT "embedding the Vulkan SPIR-V shaders"
  VERBATIM)

add_library(anychip_vulkan STATIC ${ANYCHIP_VULKAN_SOURCES} ${_embedded_cpp})
target_include_directories(anychip_vulkan PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(anychip_vulkan PUBLIC anychip_gguf Vulkan::Vulkan)
# Vulkan structs are initialized as `VkFoo x{VK_STRUCTURE_TYPE_FOO}`, leaving the rest zero on purpose.
target_compile_options(anychip_vulkan PRIVATE -Wno-missing-field-initializers)
