#include "server/listen_socket.h"

#include <httplib.h>

#include <thread>

#include "util/error.h"

namespace anychip::server {

int bind_server(httplib::Server& http, const std::string& host, int port) {
  // httplib listens with a backlog of 5: a burst of clients (32 connecting at once) overflows it
  // and the dropped connections fail. Linux lets listen() be called again to raise it.
  int listen_fd = -1;
  http.set_socket_options([&listen_fd](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  if (port == 0) {
    port = http.bind_to_any_port(host);
    if (port < 0) throw Error("cannot listen on " + host + " (any port)");
  } else if (!http.bind_to_port(host, port)) {
    throw Error("cannot listen on " + host + ":" + std::to_string(port) + " (in use, or not an address here)");
  }
  if (listen_fd >= 0) ::listen(listen_fd, 1024);
  return port;
}

bool wait_until_running(const httplib::Server& http, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!http.is_running()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace anychip::server
