#pragma once
// GET / on the router: one self-contained HTML page (inline CSS and JS, nothing fetched from
// elsewhere) that polls GET /fleet and shows the workers and live charts. Compiled in from
// src/router/dashboard.html (CMake writes it into a generated source), so the router binary
// serves it with no files beside it.
#include <string_view>

namespace anychip::router {

std::string_view dashboard_html();

}  // namespace anychip::router
