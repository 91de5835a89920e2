#include "backend/vulkan/features.h"

#include <cstdlib>
#include <sstream>

#include "backend/vulkan/embedded_shaders.h"
#include "util/error.h"

namespace anychip::vulkan {

uint32_t Features::mask() const {
  return (subgroup ? kFeatureSubgroup : 0u) | (storage16 ? kFeatureStorage16 : 0u) | (storage8 ? kFeatureStorage8 : 0u);
}

std::string Features::describe() const {
  std::string s;
  if (subgroup) s += "subgroup ";
  if (storage16) s += "fp16 ";
  if (storage8) s += "int8storage ";
  if (s.empty()) return "none";
  s.pop_back();
  return s;
}

Features parse_disabled(const std::string& list) {
  Features off;
  std::stringstream ss(list);
  for (std::string word; std::getline(ss, word, ',');) {
    if (word.empty()) continue;
    if (word == "subgroup") {
      off.subgroup = true;
    } else if (word == "fp16" || word == "16bit" || word == "int16storage") {
      off.storage16 = true;
    } else if (word == "int8storage" || word == "8bit" || word == "int8") {
      off.storage8 = true;
    } else if (word == "all") {
      off = Features{true, true, true};
    } else {
      throw Error("ANYCHIP_VULKAN_DISABLE: unknown feature '" + word + "' (known: subgroup, fp16, int8storage, all)");
    }
  }
  return off;
}

Features disabled_from_env() {
  const char* v = std::getenv("ANYCHIP_VULKAN_DISABLE");
  return v ? parse_disabled(v) : Features{};
}

}  // namespace anychip::vulkan
