#include "router/upstream.h"

#include <httplib.h>

namespace anychip::router {

Upstream::Upstream(const std::string& worker_url, const std::string& path, const std::string& body,
                   const std::string& auth, const UpstreamOptions& options) {
  client_ = std::make_unique<httplib::Client>(worker_url);
  client_->set_connection_timeout(options.connect_timeout_s);
  client_->set_read_timeout(options.read_timeout_s);
  client_->set_write_timeout(options.read_timeout_s);
  // One connection per request: a pooled socket the worker closed meanwhile would fail the
  // request for no reason, and a cancelled stream must really close its connection.
  client_->set_keep_alive(false);
  thread_ = std::thread([this, worker_url, path, body, auth, options] { run(worker_url, path, body, auth, options); });
}

Upstream::~Upstream() {
  cancel();
  if (thread_.joinable()) thread_.join();
}

void Upstream::run(std::string, std::string path, std::string body, std::string auth, UpstreamOptions) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = std::move(body);
  req.set_header("Content-Type", "application/json");
  if (!auth.empty()) req.set_header("Authorization", auth);
  req.response_handler = [this](const httplib::Response& r) {
    std::lock_guard lock(mu_);
    status_ = r.status;
    content_type_ = r.get_header_value("Content-Type");
    return !cancelled_;
  };
  req.content_receiver = [this](const char* data, size_t n, uint64_t, uint64_t) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return cancelled_ || buffered_ < kMaxBuffered; });
    if (cancelled_) return false;
    chunks_.emplace_back(data, n);
    buffered_ += n;
    got_body_ = true;
    cv_.notify_all();
    return true;
  };
  const httplib::Result res = client_->send(req);
  std::lock_guard lock(mu_);
  done_ = true;
  if (res.error() != httplib::Error::Success) {
    failed_ = true;
    error_ = res.error() == httplib::Error::Connection ? "connection refused" : httplib::to_string(res.error());
  }
  cv_.notify_all();
}

Upstream::Head Upstream::wait_head() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return got_body_ || done_; });
  Head h;
  h.status = status_;
  h.content_type = content_type_;
  if (!got_body_ && failed_) {
    h.error = error_;
    return h;
  }
  if (status_ == 0) {
    h.error = "no response";
    return h;
  }
  h.ok = true;
  return h;
}

bool Upstream::next(std::string& out) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !chunks_.empty() || done_; });
  if (chunks_.empty()) return false;
  out = std::move(chunks_.front());
  chunks_.pop_front();
  buffered_ -= out.size();
  cv_.notify_all();  // the reader may be waiting for room
  return true;
}

bool Upstream::failed() const {
  std::lock_guard lock(mu_);
  return failed_ && !cancelled_;
}

std::string Upstream::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void Upstream::cancel() {
  {
    std::lock_guard lock(mu_);
    if (done_) return;
    cancelled_ = true;
  }
  cv_.notify_all();  // a reader waiting for room gives up
  // Unblocks a read that waits on a silent worker; the receiver then stops the transfer.
  client_->stop();
}

}  // namespace anychip::router
