#pragma once
// The process lifecycle `serve` and `route` share: SIGINT/SIGTERM are blocked in every thread and
// collected by the main thread with sigwait, while the HTTP accept loop runs on a thread of its own.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "util/error.h"

namespace anychip::cli {

// Blocks SIGINT and SIGTERM in this thread and every thread started after it (call it before any
// starts) and returns the set for sigwait.
inline sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Runs `server.listen()` on its own thread once the server is bound. Server has listen(),
// wait_running(timeout) and stop() (server::HttpServer, router::RouterServer).
template <class Server>
class ListenerThread {
 public:
  // Throws anychip::Error when the accept loop is not running within 10 s.
  explicit ListenerThread(Server& server) : server_(server) {
    thread_ = std::thread([this] {
      const bool ok = server_.listen();
      if (!stopping_.load()) {
        // The main thread waits for a signal; send it one rather than serve nothing forever.
        std::fprintf(stderr, "error: the HTTP listener stopped unexpectedly%s\n", ok ? "" : " (listen failed)");
        kill(getpid(), SIGTERM);
      }
    });
    if (!server_.wait_running(std::chrono::seconds(10))) {
      stop();
      throw Error("the HTTP listener did not start");
    }
  }
  ~ListenerThread() { stop(); }
  ListenerThread(const ListenerThread&) = delete;
  ListenerThread& operator=(const ListenerThread&) = delete;

  // Stops the accept loop and joins its thread (idempotent).
  void stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    server_.stop();
    thread_.join();
  }

 private:
  Server& server_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace anychip::cli
