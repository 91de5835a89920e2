#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace anychip::server {

ApiError bad_param(const std::string& param, const std::string& message) {
  return ApiError(400, message, "invalid_request_error", param);
}

std::string error_body(const std::string& message, const std::string& type, const std::optional<std::string>& param,
                       const std::optional<std::string>& code) {
  nlohmann::ordered_json err;
  err["message"] = message;
  err["type"] = type;
  err["param"] = param ? nlohmann::ordered_json(*param) : nlohmann::ordered_json(nullptr);
  err["code"] = code ? nlohmann::ordered_json(*code) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json body;
  body["error"] = std::move(err);
  // Messages may quote client bytes that are not valid UTF-8; replace rather than throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_body(const ApiError& e) { return error_body(e.what(), e.type(), e.param(), e.code()); }

std::string error_type_for_status(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace anychip::server
