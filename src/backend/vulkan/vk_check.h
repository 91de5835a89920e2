#pragma once
// Turns failed Vulkan calls into anychip::Error messages that name the call and the result, so a
// missing driver or an exhausted device reads as a clear error instead of a crash.
#include <vulkan/vulkan.h>

namespace anychip::vulkan {

const char* result_name(VkResult r);
// Throws anychip::Error("vulkan: <what> failed: <result>") unless r is VK_SUCCESS.
void check(VkResult r, const char* what);

}  // namespace anychip::vulkan
