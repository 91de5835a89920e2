#pragma once
// A watch on every key under a prefix through etcd's JSON gateway: POST /v3/watch answers with an
// endless stream of newline-separated JSON messages, one per batch of events.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace httplib {
class Client;
}

namespace anychip::router {

struct EtcdEvent {
  bool deleted = false;  // else a put
  std::string key;
  std::string value;     // empty for a delete
};

class EtcdWatch {
 public:
  // idle_timeout: a silent stream is given up after this long (etcd itself sends nothing while
  // nothing changes, so the caller lists again and re-watches: cheap, and it notices a network
  // that dropped the connection without a word).
  EtcdWatch(const std::string& endpoint, std::chrono::seconds idle_timeout);
  ~EtcdWatch();
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // Calls on_event for each change under prefix from start_revision on, until stop() (returns
  // true), idle_timeout passes without a message (returns false) or the stream ends or fails
  // (throws EtcdError). Either way but stop() the caller lists again and re-watches, since events
  // may have been missed (e.g. etcd compacted start_revision away).
  bool run(const std::string& prefix, int64_t start_revision, const std::function<void(const EtcdEvent&)>& on_event);

  // From another thread: run() returns soon.
  void stop();

 private:
  // One message of the stream. Throws EtcdError for a cancelled watch or an error message.
  void handle(const std::string& line, const std::function<void(const EtcdEvent&)>& on_event);

  std::string endpoint_;
  std::chrono::seconds idle_timeout_;
  std::unique_ptr<httplib::Client> http_;
  std::atomic<bool> stopped_{false};
};

}  // namespace anychip::router
