#pragma once
// Parses memory sizes given on the command line: "512M", "2G", "1.5GiB", "1048576".
#include <cstdint>
#include <string>

namespace anychip::server {

// Binary units (K = 1024). Throws anychip::Error naming the text when it is not a size.
uint64_t parse_byte_size(const std::string& text);

}  // namespace anychip::server
