#pragma once
// Binding an httplib server the way `serve` and `route` both need: port 0 picks a free port, a
// refused address is an anychip::Error naming it, and the listen backlog is raised.
#include <chrono>
#include <string>

namespace httplib {
class Server;
}

namespace anychip::server {

// Returns the bound port. Throws anychip::Error.
int bind_server(httplib::Server& http, const std::string& host, int port);
// Waits until the server's accept loop (listen_after_bind on another thread) is running.
bool wait_until_running(const httplib::Server& http, std::chrono::milliseconds timeout);

}  // namespace anychip::server
