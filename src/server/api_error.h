#pragma once
// OpenAI-style API errors: an HTTP status plus the body {"error":{message,type,param,code}}.
// Request parsing and the handlers throw ApiError; one place turns it into a response, so every
// failure a client sees has the same shape.
#include <optional>
#include <stdexcept>
#include <string>

namespace anychip::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error",
           std::optional<std::string> param = std::nullopt, std::optional<std::string> code = std::nullopt)
      : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::optional<std::string>& param() const { return param_; }
  const std::optional<std::string>& code() const { return code_; }

 private:
  int status_;
  std::string type_;
  std::optional<std::string> param_;
  std::optional<std::string> code_;
};

// A 400 invalid_request_error naming the offending field.
ApiError bad_param(const std::string& param, const std::string& message);

// {"error":{"message":...,"type":...,"param":...,"code":...}} (param/code null when absent).
std::string error_body(const std::string& message, const std::string& type,
                       const std::optional<std::string>& param = std::nullopt,
                       const std::optional<std::string>& code = std::nullopt);
std::string error_body(const ApiError& e);

// The error type and default message OpenAI uses for a bare HTTP status (404, 405, 413, ...).
std::string error_type_for_status(int status);

}  // namespace anychip::server
